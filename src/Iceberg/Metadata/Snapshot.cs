namespace DataPlane.Iceberg.Metadata;

/// <summary>
/// A table state: its manifest list, sequence number, parent and summary (<c>operation</c> plus the standard counters
/// of <see cref="SnapshotSummary"/>). Format v1 allowed a snapshot to list its manifests inline instead
/// (<see cref="Manifests"/>); exactly one of the two is set.
/// </summary>
public sealed record Snapshot
{
    public required long SnapshotId { get; init; }
    public long? ParentSnapshotId { get; init; }
    public long SequenceNumber { get; init; }
    public required long TimestampMs { get; init; }
    /// <summary>The manifest list's location; null for a v1 snapshot that lists <see cref="Manifests"/> inline.</summary>
    public string? ManifestList { get; init; }
    /// <summary>A v1 snapshot's inline manifest locations (the <c>manifests</c> key), used when there is no manifest list.</summary>
    public IReadOnlyList<string>? Manifests { get; init; }
    public IReadOnlyDictionary<string, string> Summary { get; init; } = new Dictionary<string, string> { ["operation"] = "append" };
    public int? SchemaId { get; init; }

    public string Operation => Summary.TryGetValue("operation", out var op) ? op : "append";

    public override string ToString() => $"snapshot {SnapshotId} ({Operation}, seq {SequenceNumber}, at {TimestampMs})";
}
