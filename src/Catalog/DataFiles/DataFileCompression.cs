namespace DataPlane.Catalog.DataFiles;

/// <summary>The Parquet codec of written data files (Iceberg's <c>write.parquet.compression-codec</c>).</summary>
public enum DataFileCompression
{
    Zstd,
    Snappy,
    Gzip,
    Uncompressed,
}
