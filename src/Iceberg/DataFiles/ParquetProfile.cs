namespace DataPlane.Iceberg.DataFiles;

/// <summary>How column values are encoded in written Parquet files (table property <c>dataplane.parquet.profile</c>).</summary>
public enum ParquetProfile
{
    /// <summary>
    /// What Iceberg's own writer and most engines write, and every reader opens: dictionary pages with the standard
    /// fallback to plain pages when a column's dictionary grows too large, version 1 data pages.
    /// </summary>
    Default,

    /// <summary>
    /// Smaller files for readers that support Parquet's newer encodings: integers, dates, times and timestamps
    /// delta-packed (<c>DELTA_BINARY_PACKED</c>), floating point split by byte (<c>BYTE_STREAM_SPLIT</c>), without
    /// dictionaries; strings and binary as in the default profile. Some readers cannot open them (Parquet.Net 6.1 fails
    /// on delta-packed timestamps and dates); README lists the readers tested.
    /// </summary>
    Compact,
}
