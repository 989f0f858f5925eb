using DataPlane.Iceberg.DataFiles;
using Xunit;

namespace DataPlane.Iceberg.Tests.DataFiles;

/// <summary>A table's write properties as writer options: what each property sets, and the message for a bad value.</summary>
public sealed class TableWritePropertiesTests
{
    private static DataFileWriterOptions Apply(params (string Key, string Value)[] properties) =>
        TableWriteProperties.Apply(properties.ToDictionary(p => p.Key, p => p.Value));

    [Fact]
    public void Without_properties_the_writer_keeps_its_own_choices()
    {
        var pipeline = new DataFileWriterOptions { CompressionLevel = 1, TargetFileSizeBytes = 1000, RowGroupSizeBytes = 500 };
        Assert.Equal(pipeline, TableWriteProperties.Apply(new Dictionary<string, string> { ["owner"] = "ada" }, pipeline));
        var defaults = Apply();
        Assert.Equal((DataFileCompression.Zstd, ParquetProfile.Default, 512L << 20, 128L << 20, 1L << 20),
            (defaults.Compression, defaults.Profile, defaults.TargetFileSizeBytes, defaults.RowGroupSizeBytes, defaults.PageSizeBytes));
    }

    [Theory]
    [InlineData("zstd", DataFileCompression.Zstd)]
    [InlineData("ZSTD", DataFileCompression.Zstd)]
    [InlineData("snappy", DataFileCompression.Snappy)]
    [InlineData("gzip", DataFileCompression.Gzip)]
    [InlineData("lz4", DataFileCompression.Lz4)]
    [InlineData("uncompressed", DataFileCompression.Uncompressed)]
    public void Each_codec_is_taken(string codec, DataFileCompression expected) =>
        Assert.Equal(expected, Apply((TableWriteProperties.CompressionCodec, codec)).Compression);

    [Fact]
    public void Every_property_sets_its_option()
    {
        var options = Apply(
            (TableWriteProperties.CompressionCodec, "gzip"), (TableWriteProperties.CompressionLevel, "7"),
            (TableWriteProperties.RowGroupSizeBytes, "1048576"), (TableWriteProperties.PageSizeBytes, "65536"),
            (TableWriteProperties.TargetFileSizeBytes, "134217728"), (TableWriteProperties.Profile, "compact"));
        Assert.Equal((DataFileCompression.Gzip, (int?)7, 1048576L, 65536L, 134217728L, ParquetProfile.Compact),
            (options.Compression, options.CompressionLevel, options.RowGroupSizeBytes, options.PageSizeBytes, options.TargetFileSizeBytes, options.Profile));
    }

    [Fact]
    public void A_codec_brings_its_own_default_level_and_codecs_without_levels_ignore_one()
    {
        var pipeline = new DataFileWriterOptions { CompressionLevel = 1 };
        Assert.Equal(1, TableWriteProperties.Apply(new Dictionary<string, string> { [TableWriteProperties.CompressionCodec] = "zstd" }, pipeline).CompressionLevel);
        Assert.Null(TableWriteProperties.Apply(new Dictionary<string, string> { [TableWriteProperties.CompressionCodec] = "gzip" }, pipeline).CompressionLevel);
        // As Iceberg's writer does: a level for snappy is not an error, just not used.
        var snappy = Apply((TableWriteProperties.CompressionCodec, "snappy"), (TableWriteProperties.CompressionLevel, "5"));
        Assert.Equal((DataFileCompression.Snappy, (int?)null), (snappy.Compression, snappy.CompressionLevel));
    }

    [Theory]
    [InlineData(TableWriteProperties.CompressionCodec, "brotli")]
    [InlineData(TableWriteProperties.CompressionCodec, "")]
    [InlineData(TableWriteProperties.CompressionLevel, "fast")]
    [InlineData(TableWriteProperties.CompressionLevel, "23")]
    [InlineData(TableWriteProperties.CompressionLevel, "0")]
    [InlineData(TableWriteProperties.RowGroupSizeBytes, "0")]
    [InlineData(TableWriteProperties.RowGroupSizeBytes, "2147483648")]
    [InlineData(TableWriteProperties.PageSizeBytes, "-1")]
    [InlineData(TableWriteProperties.PageSizeBytes, "1e6")]
    [InlineData(TableWriteProperties.TargetFileSizeBytes, "99999999999999999999")]
    [InlineData(TableWriteProperties.Profile, "smallest")]
    public void A_bad_value_is_refused_naming_the_property_and_the_value(string property, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => Apply((property, value)));
        Assert.Contains($"{property} = '{value}'", error.Message, StringComparison.Ordinal);
    }
}
