namespace DataPlane.Iceberg.Manifests;

/// <summary>A manifest as the manifest list records it (the spec's <c>manifest_file</c> struct).</summary>
public sealed record ManifestFile
{
    /// <summary>Sequence number of a manifest written for a commit that has not been assigned one yet.</summary>
    public const long UnassignedSequenceNumber = -1;

    public required string ManifestPath { get; init; }
    public required long ManifestLength { get; init; }
    public required int PartitionSpecId { get; init; }
    public ManifestContent Content { get; init; } = ManifestContent.Data;
    public long SequenceNumber { get; init; } = UnassignedSequenceNumber;
    public long MinSequenceNumber { get; init; } = UnassignedSequenceNumber;
    public required long AddedSnapshotId { get; init; }
    public int AddedFilesCount { get; init; }
    public int ExistingFilesCount { get; init; }
    public int DeletedFilesCount { get; init; }
    public long AddedRowsCount { get; init; }
    public long ExistingRowsCount { get; init; }
    public long DeletedRowsCount { get; init; }
    public IReadOnlyList<FieldSummary>? Partitions { get; init; }
    public byte[]? KeyMetadata { get; init; }

    public bool HasAddedFiles => AddedFilesCount > 0;
    public bool HasLiveFiles => AddedFilesCount > 0 || ExistingFilesCount > 0;
}

/// <summary>Per partition field: whether any file's value is null or NaN, and bounds of the others (Appendix D bytes).</summary>
public sealed record FieldSummary(bool ContainsNull, bool? ContainsNan, byte[]? LowerBound, byte[]? UpperBound);
