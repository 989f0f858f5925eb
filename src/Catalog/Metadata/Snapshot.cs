namespace DataPlane.Catalog.Metadata;

/// <summary>
/// A table state: its manifest list, sequence number, parent and summary (<c>operation</c> plus the standard counters
/// of <see cref="SnapshotSummary"/>).
/// </summary>
public sealed record Snapshot
{
    public required long SnapshotId { get; init; }
    public long? ParentSnapshotId { get; init; }
    public long SequenceNumber { get; init; }
    public required long TimestampMs { get; init; }
    public required string ManifestList { get; init; }
    public IReadOnlyDictionary<string, string> Summary { get; init; } = new Dictionary<string, string> { ["operation"] = "append" };
    public int? SchemaId { get; init; }

    public string Operation => Summary.TryGetValue("operation", out var op) ? op : "append";

    public override string ToString() => $"snapshot {SnapshotId} ({Operation}, seq {SequenceNumber}, at {TimestampMs})";
}
