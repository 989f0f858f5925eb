using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.EndToEnd;

/// <summary>
/// A table written through the library (appends, an overwrite, a delete, a schema change, more appends) must read
/// back as the same rows in DuckDB (every live data file through read_parquet) and in icebird (from the table's
/// metadata, over HTTP), unpartitioned and partitioned by day(ts) and bucket(16, id).
/// </summary>
public sealed class TableRoundTripTests : IDisposable
{
    private const long DayMillis = 86_400_000;
    private static readonly long BaseMillis = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private readonly string _warehouse = Path.Combine(Path.GetTempPath(), "dp-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly HttpFileServer _server;
    private readonly IObjectStore _store;

    public TableRoundTripTests()
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

    private sealed record Row(long Id, long TsMillis, string Label, double Amount, string? Note)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Id}|{TsMillis}|{Label}|{Amount:R}|{Note ?? "NULL"}");
    }

    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(3, "name", PrimitiveType.String),
        NestedField.Optional(4, "amount", PrimitiveType.Double),
    ]);

    [Fact]
    public Task Unpartitioned_table_reads_back_the_same_in_duckdb_and_icebird() => RunScenarioAsync(PartitionSpec.Unpartitioned);

    [Fact]
    public Task Table_partitioned_by_day_and_bucket_reads_back_the_same_in_duckdb_and_icebird() =>
        RunScenarioAsync(PartitionSpec.BuilderFor(Schema).Day("ts").Bucket("id", 16).Build());

    private async Task RunScenarioAsync(PartitionSpec spec)
    {
        var committer = new FileTableCommitter(_store, "db/events");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        var expected = new Dictionary<long, Row>();

        // Two appends, each in two batches.
        await AppendAsync(table, expected, Rows(0, 600, "a"), Rows(600, 400, "a"));
        await AppendAsync(table, expected, Rows(1000, 500, "b"), Rows(1500, 500, "b"));
        // Overwrite every row with id >= 1000 (whole files of the second append) with new values.
        var replacement = Rows(1000, 700, "c");
        await TableBatches.OverwriteAsync(table, Expression.GreaterThanOrEqual("id", 1000L), [Batch(table.Schema, replacement)]);
        foreach (var id in expected.Keys.Where(id => id >= 1000).ToList()) expected.Remove(id);
        foreach (var r in replacement) expected[r.Id] = r;
        await AppendAsync(table, expected, Rows(3000, 300, "d"));
        // Delete the first append (all its files hold ids < 1000 only).
        await table.DeleteWhereAsync(Expression.LessThan("id", 1000L));
        foreach (var id in expected.Keys.Where(id => id < 1000).ToList()) expected.Remove(id);
        // Schema change: rename a column, add one; older files keep their names and lack the new column.
        await table.UpdateSchemaAsync(u => u.RenameColumn("name", "label").AddColumn("note", PrimitiveType.String));
        await AppendAsync(table, expected, Rows(5000, 250, "e", withNote: true));

        var want = expected.Values.OrderBy(r => r.Id).Select(r => r.ToString()).ToList();
        await AssertDuckDbReadsAsync(table, expected.Values.ToList(), want);
        await AssertIcebirdReadsAsync(table, want);
        await AssertOwnReaderReadsAsync(table, want);
    }

    private static List<Row> Rows(long firstId, int count, string tag, bool withNote = false) =>
        Enumerable.Range(0, count).Select(i =>
        {
            long id = firstId + i;
            return new Row(id, BaseMillis + id * 7919 % (3 * DayMillis), $"{tag}-{id % 97}", id % 400 * 0.25 - 20, withNote && id % 3 != 0 ? $"note {id}" : null);
        }).ToList();

    private static async Task AppendAsync(Table table, Dictionary<long, Row> expected, params List<Row>[] batches)
    {
        await TableBatches.AppendAsync(table, batches.Select(b => Batch(table.Schema, b)).ToList());
        foreach (var r in batches.SelectMany(b => b)) expected[r.Id] = r;
    }

    private static RecordBatch Batch(IcebergSchema schema, List<Row> rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(schema);
        var columns = new List<IArrowArray>
        {
            ArrowColumns.Longs(rows.Select(r => (long?)r.Id).ToArray()),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, rows.Select(r => (long?)(r.TsMillis * 1000)).ToArray()),
            ArrowColumns.Strings(rows.Select(r => (string?)r.Label).ToArray()),
            ArrowColumns.Doubles(rows.Select(r => (double?)r.Amount).ToArray()),
        };
        if (schema.Columns.Count == 5)
            columns.Add(ArrowColumns.Strings(rows.Select(r => r.Note).ToArray()));
        return new RecordBatch(arrow, columns, rows.Count);
    }

    private string LocalPath(string location) =>
        Path.Combine(_warehouse, Uri.UnescapeDataString(location[_server.BaseUri.ToString().Length..]));

    private async Task AssertDuckDbReadsAsync(Table table, List<Row> expectedRows, List<string> want)
    {
        await table.RefreshAsync();
        var tasks = await table.NewScan().PlanFilesAsync();
        Assert.NotEmpty(tasks);
        var selects = new List<string>();
        foreach (var task in tasks)
        {
            var path = DuckDbQuery.Literal(LocalPath(task.File.FilePath));
            // Columns are matched by field id through the schema the file was written with, as an Iceberg reader does.
            var footer = DuckDbQuery.Rows($"SELECT decode(value) FROM parquet_kv_metadata({path}) WHERE decode(key) = 'iceberg.schema'");
            var fileSchema = IcebergSchema.FromJson(Assert.Single(footer)[0]);
            string Column(string current)
            {
                var name = fileSchema.FindField(table.Schema.Field(current).Id)?.Name;
                return name is null ? "NULL" : $"\"{name}\"";
            }
            selects.Add($"SELECT {Column("id")} AS id, epoch_ms({Column("ts")}) AS ts, {Column("label")} AS label, " +
                $"{Column("amount")} AS amount, {Column("note")} AS note FROM read_parquet({path})");
            Assert.Equal(task.File.RecordCount.ToString(CultureInfo.InvariantCulture), DuckDbQuery.Rows($"SELECT count(*) FROM read_parquet({path})")[0][0]);
        }
        var union = string.Join(" UNION ALL ", selects);

        var rows = DuckDbQuery.Rows($"SELECT id, ts, label, amount, note FROM ({union}) ORDER BY id")
            .Select(r => $"{r[0]}|{r[1]}|{r[2]}|{double.Parse(r[3], CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)}|{r[4]}").ToList();
        Assert.Equal(want, rows);

        var aggregates = DuckDbQuery.Rows($"SELECT count(*), sum(id), sum(amount), min(ts), max(ts), count(note), count(DISTINCT label) FROM ({union})")[0];
        var expectedAggregates = new[]
        {
            expectedRows.Count.ToString(CultureInfo.InvariantCulture),
            expectedRows.Sum(r => r.Id).ToString(CultureInfo.InvariantCulture),
            expectedRows.Sum(r => r.Amount).ToString(CultureInfo.InvariantCulture),
            expectedRows.Min(r => r.TsMillis).ToString(CultureInfo.InvariantCulture),
            expectedRows.Max(r => r.TsMillis).ToString(CultureInfo.InvariantCulture),
            expectedRows.Count(r => r.Note is not null).ToString(CultureInfo.InvariantCulture),
            expectedRows.Select(r => r.Label).Distinct().Count().ToString(CultureInfo.InvariantCulture),
        };
        Assert.Equal(expectedAggregates, aggregates);
    }

    private async Task AssertIcebirdReadsAsync(Table table, List<string> want)
    {
        var rows = await Icebird.ReadAsync(new Uri(table.Metadata.Location));
        string Text(JsonElement row, string name) =>
            !row.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? "NULL" : v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
        var got = rows.Select(r => string.Join('|',
                Text(r, "id"),
                DateTimeOffset.Parse(Text(r, "ts"), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                Text(r, "label"),
                r.GetProperty("amount").GetDouble().ToString("R", CultureInfo.InvariantCulture),
                Text(r, "note")))
            .OrderBy(s => long.Parse(s[..s.IndexOf('|')], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(want, got);
    }

    private async Task AssertOwnReaderReadsAsync(Table table, List<string> want)
    {
        var got = new List<(long Id, string Text)>();
        foreach (var task in await table.NewScan().PlanFilesAsync())
        {
            var key = Uri.UnescapeDataString(task.File.FilePath[_server.BaseUri.ToString().Length..]);
            await foreach (var batch in DataFileReader.ReadAsync(_store, key, table.Schema))
            {
                using (batch)
                {
                    var ids = (Int64Array)batch.Column("id");
                    var ts = (TimestampArray)batch.Column("ts");
                    var labels = (StringArray)batch.Column("label");
                    var amounts = (DoubleArray)batch.Column("amount");
                    var notes = (StringArray)batch.Column("note");
                    for (int i = 0; i < batch.Length; i++)
                        got.Add((ids.Values[i], new Row(ids.Values[i], ts.Values[i] / 1000, labels.GetString(i)!, amounts.Values[i], notes.GetString(i)).ToString()));
                }
            }
        }
        Assert.Equal(want, got.OrderBy(r => r.Id).Select(r => r.Text).ToList());
    }
}
