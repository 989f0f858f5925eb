using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.DataFiles;

/// <summary>Partitioned writes where the partitions of neighbouring rows differ: every data file holds exactly the rows
/// of its partition, every column intact and in the order they were written, read back by DuckDB.</summary>
public sealed class TableDataWriterTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "name", PrimitiveType.String),
        NestedField.Optional(3, "flag", PrimitiveType.Boolean),
        NestedField.Optional(4, "score", PrimitiveType.Double),
        NestedField.Optional(5, "tags", new Iceberg.Types.ListType(7, false, PrimitiveType.String)),
        NestedField.Optional(6, "point", new Iceberg.Types.StructType(NestedField.Optional(8, "x", PrimitiveType.Int))),
    ]);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-partitioned-write");
    private readonly IObjectStore _store;

    public TableDataWriterTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private sealed record Row(long Id, string? Name, bool? Flag, double? Score, string[]? Tags, int? X)
    {
        /// <summary>The row as DuckDB prints it with every column cast to VARCHAR.</summary>
        public string[] AsText() =>
        [
            Id.ToString(CultureInfo.InvariantCulture), Name ?? "NULL", Flag is { } f ? (f ? "true" : "false") : "NULL",
            Score is { } s ? ((long)(s * 100)).ToString(CultureInfo.InvariantCulture) : "NULL",
            Tags is null ? "NULL" : "[" + string.Join(", ", Tags) + "]",
            X is { } x ? "{'x': " + x.ToString(CultureInfo.InvariantCulture) + "}" : "NULL",
        ];
    }

    private static List<Row> Rows(long first, int count) => Enumerable.Range(0, count).Select(i =>
    {
        long id = first + i;
        return new Row(id, id % 6 == 0 ? null : $"n{id % 3}", id % 5 == 0 ? null : id % 2 == 0, id % 7 == 0 ? null : id * 0.25,
            id % 4 == 0 ? null : Enumerable.Range(0, (int)(id % 3)).Select(k => $"t{id}-{k}").ToArray(), id % 9 == 0 ? null : (int)(id * 3));
    }).ToList();

    private static RecordBatch Batch(List<Row> rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(Schema);
        var flags = new BooleanArray.Builder();
        foreach (var r in rows) if (r.Flag is { } f) flags.Append(f); else flags.AppendNull();
        var tags = ArrowColumns.List(arrow.FieldsList[4].DataType, rows.Select(r => r.Tags?.Length).ToArray(),
            ArrowColumns.Strings(rows.SelectMany(r => r.Tags ?? []).ToArray()));
        var pointType = (Apache.Arrow.Types.StructType)arrow.FieldsList[5].DataType;
        var points = new StructArray(pointType, rows.Count, [ArrowColumns.Ints(rows.Select(r => r.X).ToArray())],
            ArrowColumns.Validity(rows.Select(r => r.X).ToArray(), out int pointNulls), pointNulls);
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(rows.Select(r => (long?)r.Id).ToArray()),
            ArrowColumns.Strings(rows.Select(r => r.Name).ToArray()),
            flags.Build(),
            ArrowColumns.Doubles(rows.Select(r => r.Score).ToArray()),
            tags,
            points,
        ], rows.Count);
    }

    public static TheoryData<string> Specs => new() { "bucket", "bucket-and-name", "name" };

    /// <summary>bucket(4, id) is computed from the Arrow buffers; identity(name) of a string per row: both paths group.</summary>
    private static PartitionSpec SpecOf(string name) => name switch
    {
        "bucket" => PartitionSpec.BuilderFor(Schema).Bucket("id", 4).Build(),
        "bucket-and-name" => PartitionSpec.BuilderFor(Schema).Bucket("id", 3).Identity("name").Build(),
        _ => PartitionSpec.BuilderFor(Schema).Identity("name").Build(),
    };

    private static object?[] PartitionOf(PartitionSpec spec, Row row) => spec.Fields.Select(f => f.SourceId == 1
        ? f.Transform.Apply(PrimitiveType.Long, row.Id)
        : f.Transform.Apply(PrimitiveType.String, row.Name)).ToArray();

    [Theory]
    [MemberData(nameof(Specs))]
    public async Task Interleaved_partitions_are_written_each_to_its_own_file_with_exactly_its_rows_in_order(string specName)
    {
        var spec = SpecOf(specName);
        var committer = new FileTableCommitter(_store, "db/interleaved");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        var rows = Rows(0, 700);
        // A slice with an offset, as a caller's batch may be, next to a plain batch.
        var sliced = Batch([.. Rows(10_000, 5), .. rows[..400]]).Slice(5, 400);
        await TableBatches.AppendAsync(table, [sliced, Batch(rows[400..])]);

        var files = (await table.NewScan().PlanFilesAsync()).Select(t => t.File).ToList();
        var expected = rows.GroupBy(r => string.Join('|', PartitionOf(spec, r))).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(expected.Count, files.Count);
        Assert.True(files.Count > 2, "the rows should spread over several partitions");
        foreach (var file in files)
        {
            var partitionRows = expected[string.Join('|', file.Partition.Values)];
            string path = Path.Combine(_dir.FullName, table.KeyOf(file.FilePath));
            var read = DuckDbQuery.Rows(
                $"SELECT id::VARCHAR, name, flag::VARCHAR, round(score * 100)::BIGINT::VARCHAR, tags::VARCHAR, point::VARCHAR FROM read_parquet({DuckDbQuery.Literal(path)})");
            Assert.Equal(partitionRows.Select(r => r.AsText()), read);
            Assert.Equal(partitionRows.Count, file.RecordCount);
        }
    }

    [Fact]
    public async Task A_tables_write_properties_choose_the_codec_level_profile_row_group_and_file_sizes_of_its_writes()
    {
        var committer = new FileTableCommitter(_store, "db/props");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, PartitionSpec.Unpartitioned, properties: new Dictionary<string, string>
        {
            [TableWriteProperties.CompressionCodec] = "GZIP",
            [TableWriteProperties.CompressionLevel] = "9",
            [TableWriteProperties.RowGroupSizeBytes] = "8000",
            [TableWriteProperties.TargetFileSizeBytes] = "16000",
            [TableWriteProperties.Profile] = "compact",
        });
        var batches = Enumerable.Range(0, 100).Select(b => Batch(Rows(b * 100, 100))).ToList();
        await TableBatches.AppendAsync(table, batches);

        var files = (await table.NewScan().PlanFilesAsync()).Select(t => Path.Combine(_dir.FullName, table.KeyOf(t.File.FilePath))).ToList();
        Assert.True(files.Count > 1, $"a 16 KB target should roll the rows into several files, got {files.Count}");
        var glob = string.Join(", ", files.Select(DuckDbQuery.Literal));
        var layout = DuckDbQuery.Rows($"SELECT string_agg(DISTINCT compression, ','), count(DISTINCT file_name || row_group_id), bool_and(encodings LIKE '%DELTA_BINARY_PACKED%') FILTER (path_in_schema = 'id') FROM parquet_metadata([{glob}])")[0];
        Assert.Equal("GZIP", layout[0]);
        Assert.True(int.Parse(layout[1], CultureInfo.InvariantCulture) > files.Count, "8 KB row groups: several per file");
        Assert.Equal("True", layout[2]);
        Assert.Equal("10000", DuckDbQuery.Rows($"SELECT count(*) FROM read_parquet([{glob}])")[0][0]);

        // A property set later applies to the next write.
        await table.SetPropertiesAsync(new Dictionary<string, string> { [TableWriteProperties.CompressionCodec] = "snappy" });
        await TableBatches.AppendAsync(table, [Batch(Rows(20_000, 10))]);
        var newest = (await table.NewScan().PlanFilesAsync()).Select(t => t.File).Single(f => f.RecordCount == 10);
        Assert.Equal("SNAPPY", DuckDbQuery.Rows($"SELECT DISTINCT compression FROM parquet_metadata({DuckDbQuery.Literal(Path.Combine(_dir.FullName, table.KeyOf(newest.FilePath)))})")[0][0]);
    }

    [Fact]
    public async Task A_bad_write_property_value_is_refused_where_it_is_set_naming_the_property_and_the_value()
    {
        var committer = new FileTableCommitter(_store, "db/bad");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Table.CreateAsync(_store, committer, committer.TableLocation, Schema,
            properties: new Dictionary<string, string> { [TableWriteProperties.CompressionCodec] = "brotli" }));
        Assert.Contains("write.parquet.compression-codec", error.Message, StringComparison.Ordinal);
        Assert.Contains("'brotli'", error.Message, StringComparison.Ordinal);

        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema);
        error = await Assert.ThrowsAsync<ArgumentException>(() => table.SetPropertiesAsync(new Dictionary<string, string> { [TableWriteProperties.TargetFileSizeBytes] = "0" }));
        Assert.Contains("write.target-file-size-bytes = '0'", error.Message, StringComparison.Ordinal);
        Assert.False(table.Metadata.Properties.ContainsKey(TableWriteProperties.TargetFileSizeBytes));
    }

    [Fact]
    public async Task Deletes_write_their_files_by_the_tables_write_properties_too()
    {
        var committer = new FileTableCommitter(_store, "db/deletes");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, PartitionSpec.Unpartitioned, properties: new Dictionary<string, string>
        {
            [TableWriteProperties.CompressionCodec] = "snappy",
            ["write.delete.mode"] = "merge-on-read",
        });
        await TableBatches.AppendAsync(table, [Batch(Rows(0, 100))]);
        string Codec(string location) =>
            DuckDbQuery.Rows($"SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata({DuckDbQuery.Literal(Path.Combine(_dir.FullName, table.KeyOf(location)))})")[0][0];

        // Merge-on-read: a position delete file.
        await table.DeleteWhereAsync(Iceberg.Scanning.Expression.Equal("id", 7L));
        var deleteFile = Assert.Single(Assert.Single(await table.NewScan().PlanFilesAsync()).DeleteFiles);
        Assert.Equal("SNAPPY", Codec(deleteFile.FilePath));

        // Copy-on-write with another codec: the rewritten data file.
        await table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "copy-on-write", [TableWriteProperties.CompressionCodec] = "gzip" });
        await table.DeleteWhereAsync(Iceberg.Scanning.Expression.Equal("id", 8L));
        var rewritten = Assert.Single(await table.NewScan().PlanFilesAsync());
        Assert.Equal("GZIP", Codec(rewritten.File.FilePath));
        Assert.Equal(98, rewritten.File.RecordCount);
    }
}
