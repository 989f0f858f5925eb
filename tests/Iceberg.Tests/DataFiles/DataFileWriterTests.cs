using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using Xunit;
using static DataPlane.TestServices.ArrowColumns;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Tests.DataFiles;

public sealed class DataFileWriterTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dp-datafiles-" + Guid.NewGuid().ToString("N"));
    private readonly IObjectStore _store;

    public DataFileWriterTests()
    {
        Directory.CreateDirectory(_root);
        _store = ObjectStore.Open(_root);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static readonly IcebergSchema AllTypes = new(1,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "flag", PrimitiveType.Boolean),
        NestedField.Optional(3, "small", PrimitiveType.Int),
        NestedField.Optional(4, "ratio", PrimitiveType.Float),
        NestedField.Optional(5, "amount", PrimitiveType.Double),
        NestedField.Optional(6, "price", PrimitiveType.Decimal(9, 2)),
        NestedField.Optional(7, "big", PrimitiveType.Decimal(38, 10)),
        NestedField.Optional(8, "day", PrimitiveType.Date),
        NestedField.Optional(9, "clock", PrimitiveType.Time),
        NestedField.Optional(10, "local_ts", PrimitiveType.Timestamp),
        NestedField.Optional(11, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(12, "name", PrimitiveType.String),
        NestedField.Optional(13, "uid", PrimitiveType.Uuid),
        NestedField.Optional(14, "code", PrimitiveType.Fixed(4)),
        NestedField.Optional(15, "blob", PrimitiveType.Binary),
        NestedField.Optional(16, "point", new Iceberg.Types.StructType(NestedField.Optional(17, "x", PrimitiveType.Int), NestedField.Optional(18, "label", PrimitiveType.String))),
        NestedField.Optional(19, "tags", new Iceberg.Types.ListType(20, false, PrimitiveType.Long)),
        NestedField.Optional(21, "attrs", new Iceberg.Types.MapType(22, PrimitiveType.String, 23, false, PrimitiveType.Double)),
    ]);

    private static readonly Guid Uid = Guid.Parse("f79c3e09-677c-4bbd-a479-3f349cb785e7");

    private static RecordBatch AllTypesBatch()
    {
        var arrow = ArrowSchemaMapping.ToArrow(AllTypes);
        IArrowType T(string name) => arrow.GetFieldByName(name).DataType;
        var dec = new Decimal128Array.Builder((Decimal128Type)T("price")).Append(12.34m).Append(-0.5m).AppendNull().Build();
        var big = new Decimal128Array.Builder((Decimal128Type)T("big")).Append(1234567890.0123456789m).AppendNull().Append(-1m).Build();
        var day = new Date32Array.Builder().Append(new DateTime(2024, 1, 15)).Append(new DateTime(1969, 12, 31)).AppendNull().Build();
        var clock = new Time64Array.Builder(TimeUnit.Microsecond).Append(3_600_000_001L).AppendNull().Append(0L).Build();
        var point = new StructArray(T("point"), 3, [Ints(1, null, 3), Strings("a", "b", null)], Validity(new object?[] { 1, 1, null }, out int pointNulls), pointNulls);
        var tags = List(T("tags"), [2, 0, null], Longs(10, 20));
        var attrs = Map((Apache.Arrow.Types.MapType)T("attrs"), [1, 2, 0], Strings("k", "k", "z"), Doubles(1.5, 2.5, -3));
        return new RecordBatch(arrow,
        [
            Longs(1, 2, 3),
            new BooleanArray.Builder().Append(true).Append(false).AppendNull().Build(),
            Ints(7, null, -7),
            new FloatArray.Builder().Append(1.5f).Append(float.NaN).AppendNull().Build(),
            Doubles(2.25, double.NaN, null),
            dec,
            big,
            day,
            clock,
            Timestamps((TimestampType)T("local_ts"), 1_700_000_000_000_001, null, 0),
            Timestamps((TimestampType)T("ts"), 1_700_000_000_000_002, 1, null),
            Strings("alpha", null, "Ωmega"),
            FixedBinary(16, [Uid.ToByteArray(bigEndian: true), null, new byte[16]]),
            FixedBinary(4, [[1, 2, 3, 4], null, [255, 0, 0, 1]]),
            new BinaryArray.Builder().Append([0xCA, 0xFE]).AppendNull().Append([]).Build(),
            point,
            tags,
            attrs,
        ], 3);
    }

    private async Task<(WrittenDataFile File, string Path)> WriteOneAsync(IcebergSchema schema, DataFileWriterOptions? options, params RecordBatch[] batches)
    {
        await using var writer = new DataFileWriter(_store, "t/data", schema, options);
        foreach (var batch in batches)
            await writer.WriteAsync(batch);
        var files = await writer.CompleteAsync();
        var file = Assert.Single(files);
        return (file, Path.Combine(_root, file.Key));
    }

    [Fact]
    public async Task Every_type_is_written_with_its_field_id_and_the_spec_s_parquet_type()
    {
        var (_, path) = await WriteOneAsync(AllTypes, null, AllTypesBatch());

        var schema = DuckDbQuery.Rows($"SELECT name, field_id, type, logical_type, type_length, repetition_type FROM parquet_schema({DuckDbQuery.Literal(path)})")
            .ToDictionary(r => r[0], r => r);
        void Has(string name, string fieldId, string physical, string logicalContains)
        {
            Assert.True(schema.TryGetValue(name, out var row), $"no parquet column {name}: {string.Join(", ", schema.Keys)}");
            Assert.Equal(fieldId, row![1]);
            Assert.Equal(physical, row[2]);
            Assert.Contains(logicalContains, row[3], StringComparison.OrdinalIgnoreCase);
        }
        Has("id", "1", "INT64", "NULL");
        Assert.Equal("REQUIRED", schema["id"][5]);
        Has("flag", "2", "BOOLEAN", "NULL");
        Has("small", "3", "INT32", "NULL");
        Has("ratio", "4", "FLOAT", "NULL");
        Has("amount", "5", "DOUBLE", "NULL");
        Has("price", "6", "INT32", "Decimal");
        Has("big", "7", "FIXED_LEN_BYTE_ARRAY", "Decimal");
        Assert.Equal("16", schema["big"][4]);
        Has("day", "8", "INT32", "Date");
        Has("clock", "9", "INT64", "isAdjustedToUTC=0");
        Assert.Contains("Time", schema["clock"][3], StringComparison.Ordinal);
        Has("local_ts", "10", "INT64", "isAdjustedToUTC=0");
        Has("ts", "11", "INT64", "isAdjustedToUTC=1");
        Assert.Contains("MICROS", schema["ts"][3], StringComparison.OrdinalIgnoreCase);
        Has("name", "12", "BYTE_ARRAY", "String");
        Has("uid", "13", "FIXED_LEN_BYTE_ARRAY", "UUID");
        Has("code", "14", "FIXED_LEN_BYTE_ARRAY", "NULL");
        Has("blob", "15", "BYTE_ARRAY", "NULL");
        Has("point", "16", "NULL", "NULL");
        Has("x", "17", "INT32", "NULL");
        Has("tags", "19", "NULL", "List");
        Has("element", "20", "INT64", "NULL");
        Has("attrs", "21", "NULL", "Map");
        Has("key", "22", "BYTE_ARRAY", "String");
        Has("value", "23", "DOUBLE", "NULL");

        var rows = DuckDbQuery.Rows(
            $"SELECT id, flag, small, ratio, amount, price, big, day::VARCHAR, clock::VARCHAR, local_ts::VARCHAR, ts::VARCHAR, name, uid::VARCHAR, hex(code), hex(blob), point.x, point.label, tags::VARCHAR, attrs::VARCHAR " +
            $"FROM read_parquet({DuckDbQuery.Literal(path)}) ORDER BY id");
        Assert.Equal(["1", "True", "7", "1.5", "2.25", "12.34", "1234567890.0123456789", "2024-01-15", "01:00:00.000001",
            "2023-11-14 22:13:20.000001", "2023-11-14 22:13:20.000002+00", "alpha", Uid.ToString(), "01020304", "CAFE", "1", "a", "[10, 20]", "{k=1.5}"], rows[0]);
        Assert.Equal(["2", "False", "NULL", "NaN", "NaN", "-0.50", "NULL", "1969-12-31", "NULL", "NULL", "1970-01-01 00:00:00.000001+00", "NULL", "NULL", "NULL", "NULL", "NULL", "b", "[]", "{k=2.5, z=-3.0}"], rows[1]);
        Assert.Equal("NULL", rows[2][1]);
        Assert.Equal("NULL", rows[2][16]); // a null struct hides its fields
        Assert.Equal("NULL", rows[2][17]);

        var kv = DuckDbQuery.Rows($"SELECT decode(key), decode(value) FROM parquet_kv_metadata({DuckDbQuery.Literal(path)})");
        var schemaJson = Assert.Single(kv, r => r[0] == DataFileWriter.SchemaFooterKey)[1];
        Assert.True(IcebergSchema.FromJson(schemaJson).SameSchema(AllTypes));
    }

    [Fact]
    public async Task Metrics_count_values_nulls_and_nans_and_bound_each_column_in_single_value_form()
    {
        var (file, path) = await WriteOneAsync(AllTypes, null, AllTypesBatch());

        Assert.Equal(3, file.RecordCount);
        Assert.Equal(new FileInfo(path).Length, file.FileSizeInBytes);
        var chunkSizes = DuckDbQuery.Rows($"SELECT column_id, sum(total_compressed_size) FROM parquet_metadata({DuckDbQuery.Literal(path)}) GROUP BY 1 ORDER BY 1");
        Assert.Equal(chunkSizes.Select(r => long.Parse(r[1])), file.ColumnSizes.OrderBy(kv => kv.Key).Select(kv => kv.Value));

        Assert.Equal(3, file.ValueCounts[1]);
        Assert.Equal(0, file.NullValueCounts[1]);
        Assert.Equal(1, file.NullValueCounts[3]);
        Assert.Equal(1, file.NanValueCounts[4]);
        Assert.Equal(1, file.NanValueCounts[5]);
        Assert.False(file.NanValueCounts.ContainsKey(1));
        Assert.Equal(2, file.NullValueCounts[17]); // one x null, one struct null
        Assert.Equal(1, file.NullValueCounts[18]); // the label's null is the null struct's
        Assert.Equal(2, file.ValueCounts[20]); // list elements
        Assert.Equal(3, file.ValueCounts[22]); // map keys

        Assert.Equal(1L, BinaryPrimitives.ReadInt64LittleEndian(file.LowerBounds[1]));
        Assert.Equal(3L, BinaryPrimitives.ReadInt64LittleEndian(file.UpperBounds[1]));
        Assert.Equal(-7, BinaryPrimitives.ReadInt32LittleEndian(file.LowerBounds[3]));
        Assert.Equal([0], file.LowerBounds[2]);
        Assert.Equal([1], file.UpperBounds[2]);
        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(file.LowerBounds[4])); // NaN left out
        Assert.Equal(1.5f, BinaryPrimitives.ReadSingleLittleEndian(file.UpperBounds[4]));
        Assert.Equal(2.25, BinaryPrimitives.ReadDoubleLittleEndian(file.UpperBounds[5]));
        Assert.Equal([0xCE], file.LowerBounds[6]); // -50 unscaled, minimal big-endian two's complement
        Assert.Equal([0x04, 0xD2], file.UpperBounds[6]); // 1234
        Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(file.LowerBounds[8]));
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(file.LowerBounds[10]));
        Assert.Equal("alpha", Encoding.UTF8.GetString(file.LowerBounds[12]));
        Assert.Equal("Ωmega", Encoding.UTF8.GetString(file.UpperBounds[12]));
        Assert.Equal(new byte[16], file.LowerBounds[13]);
        Assert.Equal(Uid.ToByteArray(bigEndian: true), file.UpperBounds[13]);
        Assert.Equal(System.Array.Empty<byte>(), file.LowerBounds[15]);
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(file.LowerBounds[17]));
        Assert.False(file.LowerBounds.ContainsKey(20)); // no bounds inside lists
        Assert.False(file.LowerBounds.ContainsKey(16)); // nor for a struct itself
    }

    [Fact]
    public async Task Long_strings_get_truncated_bounds_whose_upper_bound_still_covers_the_maximum()
    {
        var schema = new IcebergSchema(0, [NestedField.Optional(1, "s", PrimitiveType.String), NestedField.Optional(2, "b", PrimitiveType.Binary)]);
        var arrow = ArrowSchemaMapping.ToArrow(schema);
        var batch = new RecordBatch(arrow,
        [
            Strings("aaaaaaaaaaaaaaaaaaaaaaaaaaa", "zzzzzzzzzzzzzzzzzzzzzzzz", "m"),
            new BinaryArray.Builder().Append(Enumerable.Repeat((byte)1, 20).ToArray()).Append(Enumerable.Repeat((byte)0xFF, 17).Prepend((byte)7).ToArray()).AppendNull().Build(),
        ], 3);

        var (file, _) = await WriteOneAsync(schema, null, batch);

        Assert.Equal(new string('a', 16), Encoding.UTF8.GetString(file.LowerBounds[1]));
        Assert.Equal(new string('z', 15) + "{", Encoding.UTF8.GetString(file.UpperBounds[1]));
        Assert.Equal(Enumerable.Repeat((byte)1, 16), file.LowerBounds[2]);
        Assert.Equal([8], file.UpperBounds[2]); // 07 FF FF ... truncated to 16 bytes, trailing FFs dropped, 07 incremented
        Assert.Equal(1, file.NullValueCounts[2]);
    }

    /// <summary>Encodings and footer keys of every leaf column: what decides which readers open a file.</summary>
    private static (Dictionary<string, string> Encodings, List<string> FooterKeys) Layout(string path) =>
        (DuckDbQuery.Rows($"SELECT path_in_schema, string_agg(DISTINCT encodings, ',') FROM parquet_metadata({DuckDbQuery.Literal(path)}) GROUP BY 1")
            .ToDictionary(r => r[0], r => r[1]),
         DuckDbQuery.Rows($"SELECT decode(key) FROM parquet_kv_metadata({DuckDbQuery.Literal(path)})").Select(r => r[0]).ToList());

    [Fact]
    public async Task The_default_profile_writes_dictionaries_and_only_the_iceberg_schema_footer_key()
    {
        var (_, path) = await WriteOneAsync(AllTypes, null, AllTypesBatch());

        var (encodings, keys) = Layout(path);
        // Iceberg's writer and DuckDB's defaults: dictionary pages that fall back to plain ones, no delta or split encodings.
        Assert.All(new[] { "id", "small", "amount", "ratio", "day", "clock", "local_ts", "ts", "name" }, column =>
            Assert.Contains("RLE_DICTIONARY", encodings[column], StringComparison.Ordinal));
        Assert.All(encodings, e => Assert.DoesNotMatch("DELTA|BYTE_STREAM_SPLIT", e.Value));
        // No ARROW:schema (its arrow.uuid extension type fails polars); the Iceberg schema as before.
        Assert.Equal([DataFileWriter.SchemaFooterKey], keys);
        var schema = DuckDbQuery.Rows($"SELECT name, field_id, logical_type FROM parquet_schema({DuckDbQuery.Literal(path)}) WHERE name = 'uid'");
        Assert.Equal("13", schema[0][1]);
        Assert.Contains("UUID", schema[0][2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_compact_profile_delta_packs_integers_and_times_and_splits_floating_point()
    {
        var (_, path) = await WriteOneAsync(AllTypes, new DataFileWriterOptions { Profile = ParquetProfile.Compact }, AllTypesBatch());

        var (encodings, keys) = Layout(path);
        Assert.All(new[] { "id", "small", "day", "clock", "local_ts", "ts" }, column => Assert.Contains("DELTA_BINARY_PACKED", encodings[column], StringComparison.Ordinal));
        Assert.All(new[] { "ratio", "amount" }, column => Assert.Contains("BYTE_STREAM_SPLIT", encodings[column], StringComparison.Ordinal));
        Assert.Equal([DataFileWriter.SchemaFooterKey], keys);
        Assert.Equal("1234567890.0123456789", DuckDbQuery.Rows($"SELECT big FROM read_parquet({DuckDbQuery.Literal(path)}) WHERE id = 1")[0][0]);
    }

    [Fact]
    public async Task A_footer_over_many_row_groups_and_columns_keeps_its_iceberg_schema_key_and_reads_whole()
    {
        // Small row groups give a long footer (a chunk per leaf and group); it is held back and rewritten whole.
        var options = new DataFileWriterOptions { RowGroupSizeBytes = 1, TargetFileSizeBytes = long.MaxValue };
        var batches = Enumerable.Range(0, 300).Select(_ => AllTypesBatch()).ToArray();
        var (file, path) = await WriteOneAsync(AllTypes, options, batches);

        Assert.Equal(300, file.SplitOffsets.Count);
        Assert.Equal("300", DuckDbQuery.Rows($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata({DuckDbQuery.Literal(path)})")[0][0]);
        Assert.Equal([DataFileWriter.SchemaFooterKey], Layout(path).FooterKeys);
        Assert.Equal(["900", "600"], DuckDbQuery.Rows($"SELECT count(*), count(name) FROM read_parquet({DuckDbQuery.Literal(path)})")[0]);
        Assert.Equal(new FileInfo(path).Length, file.FileSizeInBytes);
    }

    [Fact]
    public async Task A_smaller_page_size_cuts_a_column_chunk_into_more_pages()
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long)]);
        var arrow = ArrowSchemaMapping.ToArrow(schema);
        var batch = new RecordBatch(arrow, [Longs(Enumerable.Range(0, 100_000).Select(i => (long?)(i * 7919 % 1000)).ToArray())], 100_000);
        long ChunkBytes(string path) => long.Parse(DuckDbQuery.Rows($"SELECT total_uncompressed_size FROM parquet_metadata({DuckDbQuery.Literal(path)})")[0][0], System.Globalization.CultureInfo.InvariantCulture);

        var (_, onePage) = await WriteOneAsync(schema, new DataFileWriterOptions { Compression = DataFileCompression.Uncompressed }, batch);
        var (_, smallPages) = await WriteOneAsync(schema, new DataFileWriterOptions { Compression = DataFileCompression.Uncompressed, PageSizeBytes = 4096 }, batch);

        // About 125 KB of dictionary indices: one page, or thirty of 4 KiB, each with a page header of over 10 bytes.
        Assert.True(ChunkBytes(smallPages) > ChunkBytes(onePage) + 25 * 10, $"{ChunkBytes(smallPages)} vs {ChunkBytes(onePage)}");
        Assert.Equal(DuckDbQuery.Rows($"SELECT sum(id) FROM read_parquet({DuckDbQuery.Literal(onePage)})"), DuckDbQuery.Rows($"SELECT sum(id) FROM read_parquet({DuckDbQuery.Literal(smallPages)})"));
    }

    [Theory]
    [InlineData(DataFileCompression.Zstd, "ZSTD")]
    [InlineData(DataFileCompression.Snappy, "SNAPPY")]
    [InlineData(DataFileCompression.Gzip, "GZIP")]
    [InlineData(DataFileCompression.Lz4, "LZ4_RAW")]
    [InlineData(DataFileCompression.Uncompressed, "UNCOMPRESSED")]
    public async Task The_codec_is_selectable(DataFileCompression compression, string parquetCodec)
    {
        var (_, path) = await WriteOneAsync(AllTypes, new DataFileWriterOptions { Compression = compression }, AllTypesBatch());

        var codecs = DuckDbQuery.Rows($"SELECT DISTINCT compression FROM parquet_metadata({DuckDbQuery.Literal(path)})");
        Assert.Equal(parquetCodec, Assert.Single(codecs)[0]);
        Assert.Equal("3", DuckDbQuery.Rows($"SELECT count(*) FROM read_parquet({DuckDbQuery.Literal(path)})")[0][0]);
    }

    [Fact]
    public async Task Files_roll_past_the_target_size_and_together_hold_every_row()
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long), NestedField.Optional(2, "s", PrimitiveType.String)]);
        var arrow = ArrowSchemaMapping.ToArrow(schema);
        var options = new DataFileWriterOptions { TargetFileSizeBytes = 64 * 1024, RowGroupSizeBytes = 32 * 1024 };
        await using var writer = new DataFileWriter(_store, "t/data", schema, options);
        var random = new Random(7);
        long expectedSum = 0;
        for (int b = 0; b < 40; b++)
        {
            var ids = Enumerable.Range(b * 1000, 1000).Select(i => (long?)i).ToArray();
            expectedSum += ids.Sum(i => i!.Value);
            var strings = ids.Select(_ => (string?)Convert.ToHexString(BitConverter.GetBytes(random.NextInt64()))).ToArray();
            await writer.WriteAsync(new RecordBatch(arrow, [Longs(ids), Strings(strings)], 1000));
        }
        var files = await writer.CompleteAsync();

        Assert.True(files.Count > 3, $"expected several files, got {files.Count}");
        Assert.Equal(40_000, files.Sum(f => f.RecordCount));
        Assert.All(files, f => Assert.Equal(new FileInfo(Path.Combine(_root, f.Key)).Length, f.FileSizeInBytes));
        var glob = string.Join(", ", files.Select(f => DuckDbQuery.Literal(Path.Combine(_root, f.Key))));
        var totals = DuckDbQuery.Rows($"SELECT count(*), sum(id) FROM read_parquet([{glob}])")[0];
        Assert.Equal(["40000", expectedSum.ToString(System.Globalization.CultureInfo.InvariantCulture)], totals);
        foreach (var f in files)
        {
            var counts = DuckDbQuery.Rows($"SELECT count(*), min(id), max(id) FROM read_parquet({DuckDbQuery.Literal(Path.Combine(_root, f.Key))})")[0];
            Assert.Equal(f.RecordCount.ToString(System.Globalization.CultureInfo.InvariantCulture), counts[0]);
            Assert.Equal(counts[1], BinaryPrimitives.ReadInt64LittleEndian(f.LowerBounds[1]).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(counts[2], BinaryPrimitives.ReadInt64LittleEndian(f.UpperBounds[1]).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static readonly IcebergSchema People = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "address", new Iceberg.Types.StructType(
            NestedField.Require(3, "city", PrimitiveType.String),
            NestedField.Require(4, "geo", new Iceberg.Types.StructType(NestedField.Require(5, "lat", PrimitiveType.Double))),
            NestedField.Optional(6, "zip", PrimitiveType.Int))),
        NestedField.Optional(7, "visits", new Iceberg.Types.ListType(8, false, new Iceberg.Types.StructType(NestedField.Require(9, "day", PrimitiveType.Int)))),
    ]);

    /// <summary>Rows 1 and 3 are whole; row 2's address is null and so are its required children, as Arrow writers leave them.</summary>
    private static RecordBatch PeopleBatch(string? thirdCity)
    {
        var arrow = ArrowSchemaMapping.ToArrow(People);
        var address = (Apache.Arrow.Types.StructType)arrow.GetFieldByName("address").DataType;
        var geoType = address.Fields[1].DataType;
        var geo = new StructArray(geoType, 3, [Doubles(45.75, null, 43.5)], Validity(new object?[] { 1, null, 1 }, out int geoNulls), geoNulls);
        var addresses = new StructArray(address, 3, [Strings("Lyon", null, thirdCity), geo, Ints(69001, null, null)],
            Validity(new object?[] { 1, null, 1 }, out int addressNulls), addressNulls);
        // Row 2 has a null list whose slot still spans one element with a null required day: hidden by the null list.
        var visitType = (Apache.Arrow.Types.ListType)arrow.GetFieldByName("visits").DataType;
        var visitStructs = new StructArray(visitType.ValueDataType, 3, [Ints(5, null, 7)], Validity(new object?[] { 1, 1, 1 }, out int visitNulls), visitNulls);
        var visits = new ListArray(visitType, 3, new ArrowBuffer.Builder<int>().AppendRange([0, 1, 2, 3]).Build(), visitStructs,
            Validity(new object?[] { 1, null, 1 }, out int listNulls), listNulls);
        return new RecordBatch(arrow, [Longs(1, 2, 3), addresses, visits], 3);
    }

    [Fact]
    public async Task Nulls_in_required_fields_under_null_parents_are_accepted_and_read_back_as_null_parents()
    {
        var (_, path) = await WriteOneAsync(People, null, PeopleBatch(thirdCity: "Nice"));

        var rows = DuckDbQuery.Rows($"SELECT id, address IS NULL, address.city, address.geo.lat, address.zip, visits::VARCHAR FROM read_parquet({DuckDbQuery.Literal(path)}) ORDER BY id");
        Assert.Equal(["1", "False", "Lyon", "45.75", "69001", "[{'day': 5}]"], rows[0]);
        Assert.Equal(["2", "True", "NULL", "NULL", "NULL", "NULL"], rows[1]);
        Assert.Equal(["3", "False", "Nice", "43.5", "NULL", "[{'day': 7}]"], rows[2]);
    }

    [Fact]
    public async Task A_null_in_a_required_field_under_a_present_parent_is_refused_with_its_path()
    {
        await using var writer = new DataFileWriter(_store, "t/data", People);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(PeopleBatch(thirdCity: null)));
        Assert.Contains("'address.city'", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 null(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_that_does_not_match_the_schema_is_refused_with_the_column_named()
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long)]);
        var wrong = new RecordBatch(new Apache.Arrow.Schema([new Field("id", Int32Type.Default, false)], null), [Ints(1)], 1);
        await using var writer = new DataFileWriter(_store, "t/data", schema);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(wrong));
        Assert.Contains("'id'", error.Message, StringComparison.Ordinal);
        Assert.Contains("int64", error.Message, StringComparison.Ordinal);
    }
}
