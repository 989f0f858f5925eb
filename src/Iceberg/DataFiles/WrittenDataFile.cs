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
    IReadOnlyList<long> SplitOffsets);
