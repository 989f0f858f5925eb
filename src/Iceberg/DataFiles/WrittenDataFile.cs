using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A Parquet data file as written, with what a manifest entry records of it: counts, sizes and the per-column
/// metrics keyed by field id (bounds in the spec's single-value binary serialization).
/// </summary>
public sealed record WrittenDataFile(
    string Key,
    long RecordCount,
    long FileSizeInBytes,
    IReadOnlyDictionary<int, long> ColumnSizes,
    IReadOnlyDictionary<int, long> ValueCounts,
    IReadOnlyDictionary<int, long> NullValueCounts,
    IReadOnlyDictionary<int, long> NanValueCounts,
    IReadOnlyDictionary<int, byte[]> LowerBounds,
    IReadOnlyDictionary<int, byte[]> UpperBounds,
    IReadOnlyList<long> SplitOffsets)
{
    /// <summary>The manifest's entry for this file at <paramref name="location"/>, in partition <paramref name="partition"/>
    /// of spec <paramref name="specId"/>: every metric the writer took, so no writer leaves one out.</summary>
    public DataFile ToDataFile(string location, int specId, PartitionData partition) => new()
    {
        FilePath = location,
        SpecId = specId,
        Partition = partition,
        RecordCount = RecordCount,
        FileSizeInBytes = FileSizeInBytes,
        ColumnSizes = ColumnSizes,
        ValueCounts = ValueCounts,
        NullValueCounts = NullValueCounts,
        NanValueCounts = NanValueCounts,
        LowerBounds = LowerBounds,
        UpperBounds = UpperBounds,
        SplitOffsets = SplitOffsets,
    };
}
