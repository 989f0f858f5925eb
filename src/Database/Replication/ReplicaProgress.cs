namespace DataPlane.Database.Replication;

/// <summary>How far a replica has applied the log, as the primary last heard.</summary>
internal sealed class ReplicaProgress(string id)
{
    public string Id { get; } = id;
    public long AppliedPosition { get; set; }
    public DateTime LastSeenUtc { get; set; }
}
