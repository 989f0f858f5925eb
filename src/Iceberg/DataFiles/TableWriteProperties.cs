using System.Globalization;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A table's write properties as data file writer options: Iceberg's <c>write.parquet.*</c> and
/// <c>write.target-file-size-bytes</c>, and DataPlane's <c>dataplane.parquet.profile</c>. The one place where every
/// writer of a table's data files (pipeline sinks, table writes, maintenance rewrites) resolves them, and where their
/// values are checked wherever they are set (table creation, property updates, sink definitions).
/// </summary>
public static class TableWriteProperties
{
    public const string CompressionCodec = "write.parquet.compression-codec";
    public const string CompressionLevel = "write.parquet.compression-level";
    public const string RowGroupSizeBytes = "write.parquet.row-group-size-bytes";
    public const string PageSizeBytes = "write.parquet.page-size-bytes";
    public const string TargetFileSizeBytes = "write.target-file-size-bytes";
    public const string Profile = "dataplane.parquet.profile";

    /// <summary>A row group is buffered in memory before it is written: this bounds what one writer may hold.</summary>
    public const long MaxRowGroupSizeBytes = 1L << 30;

    /// <summary>A page is encoded in memory before it is compressed.</summary>
    public const long MaxPageSizeBytes = 256L << 20;

    private const string Codecs = "zstd, snappy, gzip, lz4, uncompressed";

    /// <summary>
    /// <paramref name="writerDefaults"/> with every write property the table sets taking its place. A codec the table
    /// sets brings its own default level unless the table sets a level too; a level is ignored for codecs without
    /// levels (snappy, lz4, uncompressed), as Iceberg's writer ignores it.
    /// </summary>
    /// <exception cref="ArgumentException">A property's value is not valid; the message names the property and the value.</exception>
    public static DataFileWriterOptions Apply(IReadOnlyDictionary<string, string> properties, DataFileWriterOptions? writerDefaults = null)
    {
        var options = writerDefaults ?? new DataFileWriterOptions();
        if (properties.TryGetValue(CompressionCodec, out var codecText))
        {
            var codec = Codec(codecText);
            if (codec != options.Compression)
                options = options with { Compression = codec, CompressionLevel = null };
        }
        if (properties.TryGetValue(CompressionLevel, out var levelText))
        {
            var level = Integer(CompressionLevel, levelText);
            if (LevelRange(options.Compression) is var (min, max))
            {
                if (level < min || level > max)
                    throw Invalid(CompressionLevel, levelText, $"{options.Compression.ToString().ToLowerInvariant()} levels are {min} to {max}");
                options = options with { CompressionLevel = (int)level };
            }
        }
        else if (LevelRange(options.Compression) is null)
            options = options with { CompressionLevel = null };
        if (properties.TryGetValue(RowGroupSizeBytes, out var rowGroup))
            options = options with { RowGroupSizeBytes = Size(RowGroupSizeBytes, rowGroup, MaxRowGroupSizeBytes) };
        if (properties.TryGetValue(PageSizeBytes, out var page))
            options = options with { PageSizeBytes = Size(PageSizeBytes, page, MaxPageSizeBytes) };
        if (properties.TryGetValue(TargetFileSizeBytes, out var target))
            options = options with { TargetFileSizeBytes = Size(TargetFileSizeBytes, target, long.MaxValue) };
        if (properties.TryGetValue(Profile, out var profile))
            options = options with
            {
                Profile = profile.Trim().ToLowerInvariant() switch
                {
                    "default" => ParquetProfile.Default,
                    "compact" => ParquetProfile.Compact,
                    _ => throw Invalid(Profile, profile, "valid: default, compact"),
                },
            };
        return options;
    }

    /// <summary>Checks the write properties among <paramref name="properties"/> (others are not looked at).</summary>
    /// <exception cref="ArgumentException">A property's value is not valid; the message names the property and the value.</exception>
    public static void Check(IReadOnlyDictionary<string, string> properties) => Apply(properties);

    /// <summary>The levels a codec takes, or null when it takes none.</summary>
    internal static (int Min, int Max)? LevelRange(DataFileCompression codec) => codec switch
    {
        DataFileCompression.Zstd => (1, 22),
        DataFileCompression.Gzip => (1, 9),
        _ => null,
    };

    private static DataFileCompression Codec(string text) => text.Trim().ToLowerInvariant() switch
    {
        "zstd" => DataFileCompression.Zstd,
        "snappy" => DataFileCompression.Snappy,
        "gzip" => DataFileCompression.Gzip,
        "lz4" or "lz4_raw" => DataFileCompression.Lz4,
        "uncompressed" or "none" => DataFileCompression.Uncompressed,
        _ => throw Invalid(CompressionCodec, text, "valid: " + Codecs),
    };

    private static long Integer(string property, string text) =>
        long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid(property, text, "it must be a whole number");

    private static long Size(string property, string text, long max)
    {
        var value = Integer(property, text);
        if (value <= 0 || value > max)
            throw Invalid(property, text, max == long.MaxValue
                ? "it must be a positive number of bytes"
                : string.Create(CultureInfo.InvariantCulture, $"it must be a number of bytes from 1 to {max}"));
        return value;
    }

    private static ArgumentException Invalid(string property, string value, string why) =>
        new($"Table property {property} = '{(value.Length <= 100 ? value : value[..100] + "...")}' is not valid: {why}.");
}
