namespace DataPlane.Iceberg.Metadata;

public enum SnapshotRefType
{
    Branch,
    Tag,
}

/// <summary>A named reference to a snapshot: a branch (moves with commits; <c>main</c> is the table's current state) or a tag.</summary>
public sealed record SnapshotRef(long SnapshotId, SnapshotRefType Type, int? MinSnapshotsToKeep = null, long? MaxSnapshotAgeMs = null, long? MaxRefAgeMs = null)
{
    public const string MainBranch = "main";

    public bool IsBranch => Type == SnapshotRefType.Branch;

    public static SnapshotRef Branch(long snapshotId) => new(snapshotId, SnapshotRefType.Branch);
    public static SnapshotRef Tag(long snapshotId) => new(snapshotId, SnapshotRefType.Tag);
}
