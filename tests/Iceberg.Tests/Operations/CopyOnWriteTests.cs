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

namespace DataPlane.Iceberg.Tests.Operations;

/// <summary>Deletes and overwrites by filter are exact: files where only some rows match are rewritten without them.</summary>
public sealed class CopyOnWriteTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "ts", PrimitiveType.TimestampTz),
        NestedField.Optional(3, "name", PrimitiveType.String),
        NestedField.Optional(4, "score", PrimitiveType.Double),
    ]);

    private static readonly DateTime Day0 = new(2024, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-cow");
    private readonly IObjectStore _store;

    public CopyOnWriteTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Delete(recursive: true);
    }

    private sealed record Row(long Id, long TsMicros, string? Name, double? Score);

    private static List<Row> Rows(long first, int count) => Enumerable.Range(0, count).Select(i =>
    {
        long id = first + i;
        return new Row(id, (Day0.AddHours(id % 72) - DateTime.UnixEpoch).Ticks / 10, id % 5 == 0 ? null : $"n{id % 13}", id % 7 == 0 ? null : id * 0.5);
    }).ToList();

    private static RecordBatch Batch(List<Row> rows)
    {
        var arrow = ArrowSchemaMapping.ToArrow(Schema);
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(rows.Select(r => (long?)r.Id).ToArray()),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, rows.Select(r => (long?)r.TsMicros).ToArray()),
            ArrowColumns.Strings(rows.Select(r => r.Name).ToArray()),
            ArrowColumns.Doubles(rows.Select(r => r.Score).ToArray()),
        ], rows.Count);
    }

    private static async Task<List<Row>> ReadAsync(Table table)
    {
        var rows = new List<Row>();
        foreach (var task in await table.NewScan().PlanFilesAsync())
            await foreach (var batch in DataFileReader.ReadAsync(table.Store, table.KeyOf(task.File.FilePath), table.Schema))
                using (batch)
                {
                    var ids = (Int64Array)batch.Column("id");
                    var ts = (TimestampArray)batch.Column("ts");
                    var names = (StringArray)batch.Column("name");
                    var scores = (DoubleArray)batch.Column("score");
                    for (int i = 0; i < batch.Length; i++)
                        rows.Add(new Row(ids.Values[i], ts.Values[i], names.GetString(i), scores.GetValue(i)));
                }
        return rows.OrderBy(r => r.Id).ToList();
    }

    private async Task<(Table, List<Row>)> CreateAsync(PartitionSpec spec)
    {
        var committer = new FileTableCommitter(_store, "db/scores");
        var table = await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, spec);
        var rows = Rows(0, 600);
        await TableBatches.AppendAsync(table, [Batch(rows[..300]), Batch(rows[300..])]);
        return (table, rows);
    }

    public static TheoryData<string> Specs => new() { "unpartitioned", "day" };

    private static PartitionSpec SpecOf(string name) => name == "day" ? PartitionSpec.BuilderFor(Schema).Day("ts").Build() : PartitionSpec.Unpartitioned;

    [Theory]
    [MemberData(nameof(Specs))]
    public async Task Delete_by_a_filter_that_matches_part_of_a_file_removes_exactly_the_matching_rows(string spec)
    {
        var (table, rows) = await CreateAsync(SpecOf(spec));
        var before = (await table.NewScan().PlanFilesAsync()).Select(t => t.File.FilePath).ToHashSet();

        // Rows with a null name never match name = 'n3'; a row with a null score never matches score < 40.
        var filter = Expression.Or(Expression.Equal("name", "n3"), Expression.LessThan("score", 40.0));
        var snapshot = await table.DeleteWhereAsync(filter);
        bool Matches(Row r) => r.Name == "n3" || r.Score < 40.0;
        Assert.Equal(rows.Where(r => !Matches(r)), await ReadAsync(table));
        Assert.Equal("overwrite", snapshot.Operation);
        Assert.Equal((rows.Count - rows.Count(Matches)).ToString(System.Globalization.CultureInfo.InvariantCulture), snapshot.Summary["total-records"]);
        var after = (await table.NewScan().PlanFilesAsync()).Select(t => t.File.FilePath).ToHashSet();
        Assert.Empty(after.Intersect(before)); // every file held some matching row, so every file was rewritten

        // A filter no remaining row matches changes nothing and is refused as a delete.
        await Assert.ThrowsAsync<ArgumentException>(() => table.DeleteWhereAsync(Expression.Equal("name", "n3")));
    }

    [Fact]
    public async Task Overwrite_by_a_filter_rewrites_partly_matching_files_and_keeps_untouched_ones()
    {
        var (table, rows) = await CreateAsync(PartitionSpec.BuilderFor(Schema).Day("ts").Build());
        // Ids 100..119 fall on hours 28..47, all on day 1: day 0 and day 2 files hold none of them.
        var day1 = (Day0.AddDays(1) - DateTime.UnixEpoch).Ticks / 10;
        var day2 = (Day0.AddDays(2) - DateTime.UnixEpoch).Ticks / 10;
        var otherDays = (await table.NewScan().Filter(Expression.Or(Expression.LessThan("ts", day1), Expression.GreaterThanOrEqual("ts", day2))).PlanFilesAsync())
            .Select(t => t.File.FilePath).Order().ToList();
        Assert.NotEmpty(otherDays);

        var filter = Expression.And(Expression.GreaterThanOrEqual("id", 100L), Expression.LessThan("id", 120L));
        var replacement = Rows(100, 20).Select(r => r with { Name = "new" }).ToList();
        await TableBatches.OverwriteAsync(table, filter, [Batch(replacement)]);

        var expected = rows.Where(r => r.Id is < 100 or >= 120).Concat(replacement).OrderBy(r => r.Id).ToList();
        Assert.Equal(expected, await ReadAsync(table));
        var files = (await table.NewScan().PlanFilesAsync()).Select(t => t.File.FilePath).ToHashSet();
        Assert.All(otherDays, f => Assert.Contains(f, files));
    }

    [Fact]
    public async Task A_file_whose_rows_all_match_by_metrics_is_removed_without_being_read()
    {
        var (table, rows) = await CreateAsync(PartitionSpec.BuilderFor(Schema).Day("ts").Build());
        var day1 = (Day0.AddDays(1) - DateTime.UnixEpoch).Ticks / 10;
        var snapshot = await table.DeleteWhereAsync(Expression.LessThan("ts", day1));
        Assert.Equal("delete", snapshot.Operation);
        Assert.Equal("0", snapshot.Summary.GetValueOrDefault("added-data-files", "0"));
        Assert.Equal(rows.Where(r => r.TsMicros >= day1), await ReadAsync(table));
    }
}
