using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Iceberg.Manifests;

/// <summary>
/// A data (or delete) file as a manifest records it (the spec's <c>data_file</c> struct): location, format, partition
/// tuple of spec <see cref="SpecId"/>, counts and column metrics keyed by field id. Bounds are in the single-value
/// binary serialization (<see cref="Types.Conversions"/>).
/// </summary>
public sealed record DataFile
{
    public FileContent Content { get; init; } = FileContent.Data;
    public required string FilePath { get; init; }
    /// <summary>Written as the reference implementation writes it: <c>PARQUET</c>, <c>AVRO</c>, <c>ORC</c>.</summary>
    public string FileFormat { get; init; } = "PARQUET";
    public int SpecId { get; init; }
    public PartitionData Partition { get; init; } = PartitionData.Empty;
    public required long RecordCount { get; init; }
    public required long FileSizeInBytes { get; init; }
    public IReadOnlyDictionary<int, long>? ColumnSizes { get; init; }
    public IReadOnlyDictionary<int, long>? ValueCounts { get; init; }
    public IReadOnlyDictionary<int, long>? NullValueCounts { get; init; }
    public IReadOnlyDictionary<int, long>? NanValueCounts { get; init; }
    public IReadOnlyDictionary<int, byte[]>? LowerBounds { get; init; }
    public IReadOnlyDictionary<int, byte[]>? UpperBounds { get; init; }
    public byte[]? KeyMetadata { get; init; }
    public IReadOnlyList<long>? SplitOffsets { get; init; }
    public IReadOnlyList<int>? EqualityIds { get; init; }
    public int? SortOrderId { get; init; }
    public string? ReferencedDataFile { get; init; }
}
