using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using Xunit;
using static DataPlane.TestServices.ArrowColumns;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Tests.DataFiles;

public sealed class DataFileReaderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dp-datafiles-" + Guid.NewGuid().ToString("N"));
    private readonly IObjectStore _store;

    public DataFileReaderTests()
    {
        Directory.CreateDirectory(_root);
        _store = ObjectStore.Open(_root);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static readonly IcebergSchema Written = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "name", PrimitiveType.String),
        NestedField.Optional(3, "score", PrimitiveType.Float),
        NestedField.Optional(4, "small", PrimitiveType.Int),
        NestedField.Optional(5, "point", new Iceberg.Types.StructType(NestedField.Optional(6, "x", PrimitiveType.Int))),
        NestedField.Optional(7, "tags", new Iceberg.Types.ListType(8, false, PrimitiveType.String)),
    ]);

    private async Task<string> WriteAsync(int rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(Written);
        var ids = Enumerable.Range(0, rows).Select(i => (long?)i).ToArray();
        var point = new StructArray(arrow.GetFieldByName("point").DataType, rows, [Ints(ids.Select(i => (int?)(int)i!.Value * 10).ToArray())], ArrowBuffer.Empty);
        var tags = List(arrow.GetFieldByName("tags").DataType, ids.Select(_ => (int?)1).ToArray(), Strings(ids.Select(i => (string?)("t" + i)).ToArray()));
        var batch = new RecordBatch(arrow,
        [
            Longs(ids),
            Strings(ids.Select(i => i % 3 == 0 ? null : "n" + i).ToArray()),
            new FloatArray.Builder().AppendRange(ids.Select(i => (float)i!.Value / 2)).Build(),
            Ints(ids.Select(i => i % 2 == 0 ? (int?)(int)i!.Value : null).ToArray()),
            point,
            tags,
        ], rows);
        await using var writer = new DataFileWriter(_store, "t/data", Written);
        await writer.WriteAsync(batch);
        return Assert.Single(await writer.CompleteAsync()).Key;
    }

    [Fact]
    public async Task Reading_with_the_written_schema_returns_the_written_rows_batch_by_batch()
    {
        var key = await WriteAsync(1000);

        var batches = new List<RecordBatch>();
        await foreach (var batch in DataFileReader.ReadAsync(_store, key, Written, batchRows: 300))
            batches.Add(batch);

        Assert.True(batches.Count >= 4, $"expected the file in several batches, got {batches.Count}");
        Assert.Equal(1000, batches.Sum(b => b.Length));
        var ids = batches.SelectMany(b => ((Int64Array)b.Column("id")).Values.ToArray()).ToList();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), ids);
        var names = batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => ((StringArray)b.Column("name")).GetString(i))).ToList();
        Assert.Null(names[0]);
        Assert.Equal("n1", names[1]);
        var tags = (ListArray)batches[1].Column("tags");
        Assert.Equal("t300", ((StringArray)tags.GetSlicedValues(0)).GetString(0));
        foreach (var b in batches) b.Dispose();
    }

    [Fact]
    public async Task An_evolved_schema_finds_renamed_columns_by_id_reads_added_ones_as_null_skips_dropped_ones_and_widens()
    {
        var key = await WriteAsync(10);
        var evolved = new IcebergSchema(1,
        [
            NestedField.Optional(4, "small", PrimitiveType.Long),                      // widened int -> long, moved first
            NestedField.Require(1, "id", PrimitiveType.Long),
            NestedField.Optional(2, "full_name", PrimitiveType.String),               // renamed
            NestedField.Optional(9, "added", PrimitiveType.String),                   // added after the file was written
            NestedField.Optional(5, "point", new Iceberg.Types.StructType(
                NestedField.Optional(6, "x_renamed", PrimitiveType.Int),
                NestedField.Optional(10, "y", PrimitiveType.Double))),                // nested field added
        ]);                                                                           // score (3) and tags (7) dropped

        var rows = new List<string>();
        await foreach (var batch in DataFileReader.ReadAsync(_store, key, evolved))
        {
            using (batch)
            {
                Assert.Equal(["small", "id", "full_name", "added", "point"], batch.Schema.FieldsList.Select(f => f.Name));
                var small = (Int64Array)batch.Column(0);
                var point = (StructArray)batch.Column(4);
                for (int i = 0; i < batch.Length; i++)
                    rows.Add($"{small.GetValue(i)?.ToString() ?? "null"}|{((Int64Array)batch.Column(1)).GetValue(i)}|" +
                        $"{((StringArray)batch.Column(2)).GetString(i) ?? "null"}|{(batch.Column(3).IsNull(i) ? "null" : "?")}|" +
                        $"{((Int32Array)point.Fields[0]).GetValue(i)}|{(point.Fields[1].IsNull(i) ? "null" : "?")}");
            }
        }

        Assert.Equal(10, rows.Count);
        Assert.Equal("0|0|null|null|0|null", rows[0]);
        Assert.Equal("null|1|n1|null|10|null", rows[1]);
        Assert.Equal("2|2|n2|null|20|null", rows[2]);
    }
}
