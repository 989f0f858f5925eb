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
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.Scanning;

/// <summary>Scan planning skips manifests whose partition summaries rule out the filter, and still finds every matching row.</summary>
public sealed class ManifestPruningTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(3, "region", PrimitiveType.String),
    ]);

    private static readonly DateTime Day0 = new(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc);
    private const int Days = 6;
    private const int RowsPerDay = 200;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-prune");
    private readonly CountingStore _store;

    public ManifestPruningTests() => _store = new CountingStore(ObjectStore.Open(_dir.FullName));

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private sealed record Row(long Id, long TsMicros, string? Region);

    private static List<Row> RowsOfDay(int day) => Enumerable.Range(0, RowsPerDay).Select(i =>
    {
        long id = day * RowsPerDay + i;
        long micros = (Day0.AddDays(day).AddMinutes(i * 7) - DateTime.UnixEpoch).Ticks / 10;
        return new Row(id, micros, i % 10 == 0 ? null : (i % 3 == 0 ? "eu" : "us"));
    }).ToList();

    private static RecordBatch Batch(List<Row> rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(Schema);
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(rows.Select(r => (long?)r.Id).ToArray()),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, rows.Select(r => (long?)r.TsMicros).ToArray()),
            ArrowColumns.Strings(rows.Select(r => r.Region).ToArray()),
        ], rows.Count);
    }

    /// <summary>One append per day, so each manifest covers one day (and region's identity values).</summary>
    private async Task<(Table Table, List<Row> Rows)> CreateAsync()
    {
        var committer = new FileTableCommitter(_store, "db/visits");
        var spec = PartitionSpec.BuilderFor(Schema).Day("ts").Identity("region").Build();
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        var all = new List<Row>();
        for (int day = 0; day < Days; day++)
        {
            var rows = RowsOfDay(day);
            await TableBatches.AppendAsync(table, [Batch(rows)]);
            all.AddRange(rows);
        }
        return (table, all);
    }

    private async Task<(int Manifests, List<long> Ids)> ScanAsync(Table table, Expression filter, Func<Row, bool> matches, List<Row> all)
    {
        _store.Reads.Clear();
        var tasks = await table.NewScan().Filter(filter).PlanFilesAsync();
        int manifests = _store.ManifestReads;
        var byId = all.ToDictionary(r => r.Id);
        var ids = new List<long>();
        foreach (var task in tasks)
            await foreach (var batch in DataFileReader.ReadAsync(_store, table.KeyOf(task.File.FilePath), table.Schema))
                using (batch)
                    ids.AddRange(((Int64Array)batch.Column("id")).Values.ToArray());
        // The planned files may hold other rows too; every matching row must be among them.
        return (manifests, ids.Where(id => matches(byId[id])).Order().ToList());
    }

    private static List<long> Expected(List<Row> all, Func<Row, bool> matches) => all.Where(matches).Select(r => r.Id).Order().ToList();

    private static long Micros(DateTime t) => (t - DateTime.UnixEpoch).Ticks / 10;

    [Fact]
    public async Task A_selective_predicate_opens_only_the_manifests_whose_partition_summaries_can_match()
    {
        var (table, all) = await CreateAsync();

        _store.Reads.Clear();
        await table.NewScan().PlanFilesAsync();
        Assert.Equal(Days, _store.ManifestReads);

        var day3 = Micros(Day0.AddDays(3).AddHours(5));
        Func<Row, bool> onDay3 = r => r.TsMicros / 86_400_000_000L == day3 / 86_400_000_000L;
        var (opened, ids) = await ScanAsync(table, Expression.And(Expression.GreaterThanOrEqual("ts", Micros(Day0.AddDays(3))), Expression.LessThan("ts", Micros(Day0.AddDays(4)))), onDay3, all);
        Assert.Equal(1, opened);
        Assert.Equal(Expected(all, onDay3), ids);

        Func<Row, bool> early = r => r.TsMicros < Micros(Day0.AddDays(2));
        (opened, ids) = await ScanAsync(table, Expression.LessThan("ts", Day0.AddDays(2)), early, all);
        Assert.Equal(2, opened);
        Assert.Equal(Expected(all, early), ids);

        // Identity partition on region: every manifest holds both regions and nulls, so region cannot prune manifests...
        Func<Row, bool> eu = r => r.Region == "eu";
        (opened, ids) = await ScanAsync(table, Expression.Equal("region", "eu"), eu, all);
        Assert.Equal(Days, opened);
        Assert.Equal(Expected(all, eu), ids);
        // ...but a value outside every manifest's bounds does, and so does a null test on a column no manifest has null for.
        (opened, ids) = await ScanAsync(table, Expression.Equal("region", "zz"), r => r.Region == "zz", all);
        Assert.Equal(0, opened);
        Assert.Empty(ids);
        (opened, _) = await ScanAsync(table, Expression.IsNull("ts"), r => false, all);
        Assert.Equal(0, opened);

        // OR keeps the union; a predicate on an unpartitioned column cannot prune manifests.
        Func<Row, bool> firstOrLast = r => r.TsMicros < Micros(Day0.AddDays(1)) || r.TsMicros >= Micros(Day0.AddDays(Days - 1));
        (opened, ids) = await ScanAsync(table, Expression.Or(Expression.LessThan("ts", Day0.AddDays(1)), Expression.GreaterThanOrEqual("ts", Day0.AddDays(Days - 1))), firstOrLast, all);
        Assert.Equal(2, opened);
        Assert.Equal(Expected(all, firstOrLast), ids);
        Func<Row, bool> idRange = r => r.Id is >= 100 and < 500;
        (opened, ids) = await ScanAsync(table, Expression.And(Expression.GreaterThanOrEqual("id", 100L), Expression.LessThan("id", 500L)), idRange, all);
        Assert.Equal(Days, opened);
        Assert.Equal(Expected(all, idRange), ids);
    }
}
