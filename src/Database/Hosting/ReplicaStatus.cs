namespace DataPlane.Database.Hosting;

/// <summary>One replica as the primary sees it: how far behind it is, in positions and milliseconds.</summary>
public sealed record ReplicaStatus(
    string Id, string Kind, long AppliedPosition, long PrimaryPosition, long LagPositions, double? LagMilliseconds,
    DateTime LastSeenUtc, double? LagP50Milliseconds, double? LagP99Milliseconds);
