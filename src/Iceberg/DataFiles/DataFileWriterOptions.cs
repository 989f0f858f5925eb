using DataPlane.Storage;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// How data files are written; the defaults are Iceberg's table-property defaults where it has them. A table's own
/// properties override a writer's choices through <see cref="TableWriteProperties.Apply"/>.
/// </summary>
public sealed record DataFileWriterOptions
{
    public DataFileCompression Compression { get; init; } = DataFileCompression.Zstd;

    /// <summary>Codec level (zstd 1-22, gzip 1-9); null takes DataPlane's default (zstd 3, the level DuckDB uses).</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Column encodings (<c>dataplane.parquet.profile</c>).</summary>
    public ParquetProfile Profile { get; init; } = ParquetProfile.Default;

    /// <summary>A new file is started once the current one reaches about this size (<c>write.target-file-size-bytes</c>).</summary>
    public long TargetFileSizeBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Uncompressed Arrow bytes buffered per row group (<c>write.parquet.row-group-size-bytes</c>); bounds the writer's memory.</summary>
    public long RowGroupSizeBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Bytes of encoded values per data page before compression (<c>write.parquet.page-size-bytes</c>).</summary>
    public long PageSizeBytes { get; init; } = 1024 * 1024;

    /// <summary>Code points (strings) or bytes (binary) kept in lower/upper bounds (<c>write.metadata.metrics.default</c> = truncate(16)).</summary>
    public int MetricsTruncateLength { get; init; } = 16;

    public PutOptions? PutOptions { get; init; }

    /// <summary>
    /// Called with each new file's key before the file is created in the store: a writer that must find its files
    /// after a crash (a pipeline's sink) records the key durably here, so it never has to guess from a listing.
    /// </summary>
    public Func<string, CancellationToken, ValueTask>? OnNewFile { get; init; }

    internal void Validate()
    {
        if (TargetFileSizeBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(TargetFileSizeBytes), TargetFileSizeBytes, "The target file size must be positive.");
        if (RowGroupSizeBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(RowGroupSizeBytes), RowGroupSizeBytes, "The row group size must be positive.");
        if (PageSizeBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(PageSizeBytes), PageSizeBytes, "The page size must be positive.");
        if (MetricsTruncateLength <= 0)
            throw new ArgumentOutOfRangeException(nameof(MetricsTruncateLength), MetricsTruncateLength, "The metrics truncate length must be positive.");
        if (CompressionLevel is { } level)
        {
            var (min, max) = TableWriteProperties.LevelRange(Compression)
                ?? throw new ArgumentException($"A compression level ({level}) applies to zstd and gzip only, not {Compression}.", nameof(CompressionLevel));
            if (level < min || level > max)
                throw new ArgumentOutOfRangeException(nameof(CompressionLevel), level, $"The {Compression} level must be from {min} to {max}.");
        }
    }
}
