using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Tests.EndToEnd;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.Scanning;

/// <summary>
/// v2 row-level deletes: position deletes written by a merge-on-read delete, and equality deletes built by hand, are
/// applied by scan planning and <see cref="ScanTaskReader"/> under the spec's sequence number and partition rules,
/// and icebird (an independent reader) returns the same rows from the table's metadata.
/// </summary>
public sealed class RowLevelDeleteTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(3, "name", PrimitiveType.String),
    ]);

    private static readonly DateTime Day0 = new(2024, 7, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly string _warehouse = Path.Combine(Path.GetTempPath(), "dp-deletes-" + Guid.NewGuid().ToString("N"));
    private readonly HttpFileServer _server;
    private readonly IObjectStore _store;

    public RowLevelDeleteTests()
    {
        Directory.CreateDirectory(_warehouse);
        _server = new HttpFileServer(_warehouse);
        _store = new HttpLocatedStore(ObjectStore.Open(_warehouse), _server.BaseUri);
    }

    public void Dispose()
    {
        _store.Dispose();
        _server.Dispose();
        Directory.Delete(_warehouse, recursive: true);
    }

    private sealed record Row(long Id, long TsMicros, string? Name)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Id}|{TsMicros / 1000}|{Name ?? "NULL"}");
    }

    private static List<Row> Rows(long first, int count, string tag = "n") => Enumerable.Range(0, count).Select(i =>
    {
        long id = first + i;
        return new Row(id, (Day0.AddHours(id % 72) - DateTime.UnixEpoch).Ticks / 10, id % 11 == 0 ? null : $"{tag}{id % 7}");
    }).ToList();

    private static RecordBatch Batch(List<Row> rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(Schema);
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(rows.Select(r => (long?)r.Id).ToArray()),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, rows.Select(r => (long?)r.TsMicros).ToArray()),
            ArrowColumns.Strings(rows.Select(r => r.Name).ToArray()),
        ], rows.Count);
    }

    private static async Task<List<string>> OwnReaderAsync(Table table)
    {
        var rows = new List<Row>();
        foreach (var task in await table.NewScan().PlanFilesAsync())
            await foreach (var batch in ScanTaskReader.ReadAsync(table, task))
                using (batch)
                {
                    var ids = (Int64Array)batch.Column("id");
                    var ts = (TimestampArray)batch.Column("ts");
                    var names = (StringArray)batch.Column("name");
                    for (int i = 0; i < batch.Length; i++)
                        rows.Add(new Row(ids.Values[i], ts.Values[i], names.GetString(i)));
                }
        return rows.OrderBy(r => r.Id).Select(r => r.ToString()).ToList();
    }

    private static async Task<List<string>> IcebirdAsync(Table table)
    {
        var rows = await Icebird.ReadAsync(new Uri(table.Metadata.Location));
        string Text(JsonElement row, string name) =>
            !row.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? "NULL" : v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        return rows.Select(r => (Id: long.Parse(Text(r, "id"), CultureInfo.InvariantCulture), Text: string.Join('|', Text(r, "id"),
                DateTimeOffset.Parse(Text(r, "ts"), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), Text(r, "name"))))
            .OrderBy(r => r.Id).Select(r => r.Text).ToList();
    }

    /// <summary>An equality delete file of ids, in one partition of the table's spec, written as a writer would.</summary>
    private static Task<DataFile> EqualityDeletesAsync(Table table, PartitionData partition, params long[] ids)
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long)]);
        return EqualityDeleteFileAsync(table, partition, schema, [ArrowColumns.Longs(ids.Select(i => (long?)i).ToArray())]);
    }

    /// <summary>An equality delete file whose columns (the schema's, in its order) are the equality columns.</summary>
    private static async Task<DataFile> EqualityDeleteFileAsync(Table table, PartitionData partition, IcebergSchema schema, IArrowArray[] columns)
    {
        await using var writer = new DataFileWriter(table.Store, table.TableKey + "/data/deletes", schema);
        await writer.WriteAsync(new RecordBatch(ArrowSchemaMapping.ToArrow(schema), columns, columns[0].Length));
        var written = Assert.Single(await writer.CompleteAsync());
        return new DataFile
        {
            Content = FileContent.EqualityDeletes,
            FilePath = table.LocationOf(written.Key),
            SpecId = table.Spec.SpecId,
            Partition = partition,
            RecordCount = written.RecordCount,
            FileSizeInBytes = written.FileSizeInBytes,
            EqualityIds = schema.Columns.Select(c => c.Id).ToList(),
        };
    }

    [Fact]
    public async Task Merge_on_read_deletes_and_equality_deletes_are_applied_by_our_reader_and_icebird()
    {
        var committer = new FileTableCommitter(_store, "db/orders");
        var spec = PartitionSpec.BuilderFor(Schema).Day("ts").Build();
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        var expected = Rows(0, 500).ToDictionary(r => r.Id);
        await TableBatches.AppendAsync(table, [Batch(expected.Values.ToList())]);
        var dataFiles = (await table.NewScan().PlanFilesAsync()).Select(t => t.File.FilePath).Order().ToList();

        // Merge-on-read: the matching rows get position delete files; the data files stay as they are.
        await table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "merge-on-read" });
        var delete = await table.DeleteWhereAsync(Expression.Equal("name", "n3"));
        foreach (var r in expected.Values.Where(r => r.Name == "n3").ToList()) expected.Remove(r.Id);
        Assert.Equal("delete", delete.Operation);
        Assert.Equal((500 - expected.Count).ToString(CultureInfo.InvariantCulture), delete.Summary["added-position-deletes"]);
        Assert.Equal(dataFiles, (await table.NewScan().PlanFilesAsync()).Select(t => t.File.FilePath).Order().ToList());
        Assert.All(await table.NewScan().PlanFilesAsync(), t => Assert.Equal(FileContent.PositionDeletes, Assert.Single(t.DeleteFiles).Content));

        // Equality deletes in day 1's partition: ids 30 and 31 are on day 1.
        var day1 = (await table.NewScan().PlanFilesAsync()).Single(t => (int)t.File.Partition[0]! == (int)((Day0.AddDays(1) - DateTime.UnixEpoch).TotalDays)).File.Partition;
        await table.AddDeleteFilesAsync([await EqualityDeletesAsync(table, day1, 30, 31)]);
        expected.Remove(30);
        expected.Remove(31);

        // Rows added after the equality delete are newer than it: an id it names comes back.
        var readded = new Row(30, expected[32].TsMicros, "again");
        await TableBatches.AppendAsync(table, [Batch([readded])]);
        expected[30] = readded;

        var want = expected.Values.OrderBy(r => r.Id).Select(r => r.ToString()).ToList();
        Assert.Equal(want, await OwnReaderAsync(table));
        Assert.Equal(want, await IcebirdAsync(table));

        // Equality deletes apply within their partition only: day 1's delete of id 5 (a day-0 row) leaves it.
        // (icebird applies equality deletes to every partition, so only our reader is checked here.)
        await table.AddDeleteFilesAsync([await EqualityDeletesAsync(table, day1, 5, 33)]);
        expected.Remove(33);
        Assert.Contains("5|", string.Join(",", await OwnReaderAsync(table)), StringComparison.Ordinal);
        Assert.Equal(expected.Values.OrderBy(r => r.Id).Select(r => r.ToString()), await OwnReaderAsync(table));

        // A copy-on-write delete afterwards keeps the rows the delete files removed deleted.
        await table.SetPropertiesAsync(new Dictionary<string, string> { ["write.delete.mode"] = "copy-on-write" });
        await table.DeleteWhereAsync(Expression.Equal("name", "n4"));
        foreach (var r in expected.Values.Where(r => r.Name == "n4").ToList()) expected.Remove(r.Id);
        Assert.Equal(expected.Values.OrderBy(r => r.Id).Select(r => r.ToString()), await OwnReaderAsync(table));
    }

    [Fact]
    public async Task Equality_deletes_by_several_columns_match_a_null_only_to_a_null()
    {
        var committer = new FileTableCommitter(_store, "db/events");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, PartitionSpec.Unpartitioned);
        var rows = Rows(0, 300);
        await TableBatches.AppendAsync(table, [Batch(rows[..150]), Batch(rows[150..])]);

        // Equality columns (name, ts), in another order than the table's. Rows with a null name share their ts with
        // named rows, and no row has a null ts.
        var nullNamed = rows.First(r => r.Name is null && r.Id > 0);
        var named = rows.First(r => r.Name is not null && r.TsMicros == nullNamed.TsMicros);
        var deletes = new (string? Name, long? Ts)[]
        {
            (null, nullNamed.TsMicros), // the null-named rows at that time, not the named ones
            (named.Name, named.TsMicros),
            ("n3", null), // a null matches only a null: no row
            (null, null),
        };
        var schema = new IcebergSchema(0, [Schema.Columns[2], Schema.Columns[1]]);
        var arrow = ArrowSchemaMapping.ToArrow(schema);
        var file = await EqualityDeleteFileAsync(table, PartitionData.Empty, schema,
        [
            ArrowColumns.Strings(deletes.Select(d => d.Name).ToArray()),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, deletes.Select(d => d.Ts).ToArray()),
        ]);
        await table.AddDeleteFilesAsync([file]);

        var kept = rows.Where(r => !deletes.Any(d => d.Name == r.Name && d.Ts == r.TsMicros)).ToList();
        Assert.InRange(rows.Count - kept.Count, 2, rows.Count / 10);
        Assert.Contains(kept, r => r.Name is null);
        Assert.Equal(kept.Select(r => r.ToString()), await OwnReaderAsync(table));
    }

    [Fact]
    public async Task An_equality_delete_written_while_a_column_was_int_still_matches_after_it_became_long()
    {
        var schema = new IcebergSchema(0, [NestedField.Require(1, "id", PrimitiveType.Long), NestedField.Optional(2, "code", PrimitiveType.Int)]);
        var committer = new FileTableCommitter(_store, "db/codes");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, schema, PartitionSpec.Unpartitioned);
        var ids = Enumerable.Range(0, 50).Select(i => (long)i).ToList();
        int? Code(long id) => id % 10 == 0 ? null : (int)(id % 7);
        await TableBatches.AppendAsync(table, [new RecordBatch(ArrowSchemaMapping.ToArrow(schema),
            [ArrowColumns.Longs(ids.Select(i => (long?)i).ToArray()), ArrowColumns.Ints(ids.Select(Code).ToArray())], ids.Count)]);
        var file = await EqualityDeleteFileAsync(table, PartitionData.Empty, new IcebergSchema(0, [schema.Columns[1]]), [ArrowColumns.Ints(3, null)]);
        await table.UpdateSchemaAsync(u => u.UpdateColumn("code", PrimitiveType.Long));
        await table.AddDeleteFilesAsync([file]);

        var read = new List<long>();
        foreach (var task in await table.NewScan().PlanFilesAsync())
            await foreach (var batch in ScanTaskReader.ReadAsync(table, task))
                using (batch)
                    read.AddRange(((Int64Array)batch.Column("id")).Values.ToArray());
        Assert.Equal(ids.Where(i => Code(i) is not (3 or null)), read.Order());
    }
}
