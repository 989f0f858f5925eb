namespace DataPlane.Iceberg.DataFiles;

/// <summary>The Parquet codec of written data files (Iceberg's <c>write.parquet.compression-codec</c>).</summary>
public enum DataFileCompression
{
    Zstd,
    Snappy,
    Gzip,
    /// <summary>Written as Parquet's <c>LZ4_RAW</c> (the <c>LZ4</c> codec id is the deprecated Hadoop framing).</summary>
    Lz4,
    Uncompressed,
}
