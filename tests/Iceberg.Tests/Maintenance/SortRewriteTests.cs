using System.Globalization;
using System.Text;
using Apache.Arrow;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Iceberg.Tests.Maintenance;

/// <summary>
/// Sort and z-order compaction, read back by DuckDB: every row kept, each file sorted, a linear sort's files in disjoint
/// ranges carrying the table's sort order id, z-ordered files clustered so a box query plans few of them, a group larger
/// than the memory budget sorted through spilled runs, and an append committed meanwhile kept.
/// </summary>
public sealed class SortRewriteTests : IDisposable
{
    private static readonly IcebergSchema Schema = new(0,
    [
        NestedField.Require(1, "id", PrimitiveType.Long),
        NestedField.Optional(2, "name", PrimitiveType.String),
        NestedField.Optional(3, "x", PrimitiveType.Int),
        NestedField.Optional(4, "y", PrimitiveType.Int),
    ]);

    private static readonly string[] Words = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "kiwi", "lemon", "mango", "nut", "olive", "pear", "quince", "rhubarb"];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sort-rewrite-");
    private readonly IObjectStore _store;
    private readonly Random _random = new(42);
    private long _nextId;

    public SortRewriteTests() => _store = ObjectStore.Open(_dir.FullName);

    public void Dispose()
    {
        _store.Dispose();
        try { _dir.Delete(recursive: true); } catch (IOException) { }
    }

    private sealed record Row(long Id, string? Name, int X, int Y)
    {
        public override string ToString() => $"{Id}|{Name ?? "NULL"}|{X}|{Y}";
    }

    private async Task<Table> CreateAsync(string? sortOrder = null)
    {
        var committer = new FileTableCommitter(_store, "db/t");
        var order = sortOrder is null ? null : RowOrder.Parse(sortOrder, Schema).SortOrder;
        // Uncompressed, so that the output's size follows the input's and the file count follows the target.
        return await Table.CreateAsync(_store, committer, committer.TableLocation, Schema, sortOrder: order,
            properties: new Dictionary<string, string> { ["write.parquet.compression-codec"] = "uncompressed" });
    }

    /// <summary>Appends <paramref name="files"/> files of <paramref name="rows"/> random rows each, one commit each; returns the rows.</summary>
    private async Task<List<Row>> AppendAsync(Table table, int files, int rows)
    {
        var all = new List<Row>();
        for (int f = 0; f < files; f++)
        {
            var batch = Enumerable.Range(0, rows).Select(_ => new Row(_nextId++, _random.Next(8) == 0 ? null : Words[_random.Next(Words.Length)], _random.Next(1000), _random.Next(1000))).ToList();
            await using var writer = new TableDataWriter(table);
            await writer.WriteAsync(new RecordBatch(ArrowSchemaMapping.ToArrow(Schema),
            [
                ArrowColumns.Longs(batch.Select(r => (long?)r.Id).ToArray()),
                ArrowColumns.Strings(batch.Select(r => r.Name).ToArray()),
                ArrowColumns.Ints(batch.Select(r => (int?)r.X).ToArray()),
                ArrowColumns.Ints(batch.Select(r => (int?)r.Y).ToArray()),
            ], batch.Count));
            await table.AppendAsync(await writer.CompleteAsync());
            all.AddRange(batch);
        }
        return all;
    }

    private static async Task<List<DataFile>> LiveFilesAsync(Table table, Expression? filter = null)
    {
        var scan = table.NewScan();
        if (filter is not null) scan.Filter(filter);
        return (await scan.PlanFilesAsync()).Select(t => t.File).ToList();
    }

    private static string Local(DataFile file) => DuckDbQuery.Literal(new Uri(file.FilePath).LocalPath);

    /// <summary>A file's rows as DuckDB reads them, in the file's order.</summary>
    private static List<Row> DuckDbRows(DataFile file) =>
        DuckDbQuery.Rows($"SELECT id, name, x, y FROM read_parquet({Local(file)}, file_row_number = true) ORDER BY file_row_number")
            .Select(r => new Row(long.Parse(r[0], CultureInfo.InvariantCulture), r[1] == "NULL" ? null : r[1], int.Parse(r[2], CultureInfo.InvariantCulture), int.Parse(r[3], CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>Every live row as DuckDB reads the table's files, by id.</summary>
    private static async Task<List<string>> DuckDbTableAsync(Table table)
    {
        var files = await LiveFilesAsync(table);
        return DuckDbQuery.Rows($"SELECT id, name, x, y FROM read_parquet([{string.Join(", ", files.Select(Local))}]) ORDER BY id")
            .Select(r => string.Join('|', r)).ToList();
    }

    private static List<string> Expected(IEnumerable<Row> rows) => rows.OrderBy(r => r.Id).Select(r => r.ToString()).ToList();

    /// <summary><c>name DESC NULLS LAST, id ASC</c>.</summary>
    private static int NameDescThenId(Row a, Row b)
    {
        int c = (a.Name, b.Name) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            _ => -Encoding.UTF8.GetBytes(a.Name!).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b.Name!)),
        };
        return c != 0 ? c : a.Id.CompareTo(b.Id);
    }

    private static long TotalBytes(IEnumerable<DataFile> files) => files.Sum(f => f.FileSizeInBytes);

    [Fact]
    public async Task A_sort_by_the_tables_order_writes_sorted_files_in_disjoint_ranges_with_the_orders_id()
    {
        var table = await CreateAsync("name DESC NULLS LAST, id");
        var rows = await AppendAsync(table, files: 20, rows: 300);
        var target = TotalBytes(await LiveFilesAsync(table)) / 4;

        var result = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options
        {
            Strategy = RewriteStrategy.Sort,
            TargetFileSizeBytes = target,
            MaxGroupBytes = long.MaxValue,
        });
        Assert.Empty(result.Failures);
        Assert.Equal("name DESC NULLS LAST, id ASC NULLS FIRST", result.Order);
        Assert.Equal(20, result.FilesRewritten);

        var files = await LiveFilesAsync(table);
        Assert.InRange(files.Count, 3, 6);
        Assert.All(files, f => Assert.Equal(table.Metadata.DefaultSortOrderId, f.SortOrderId));
        Assert.Equal(1, table.Metadata.DefaultSortOrderId);
        Assert.Equal(Expected(rows), await DuckDbTableAsync(table));

        // Each file is sorted, and the files, taken by their first row, continue one another: their name ranges do not overlap.
        var read = files.Select(DuckDbRows).OrderBy(r => r[0], Comparer<Row>.Create(NameDescThenId)).ToList();
        var all = read.SelectMany(r => r).ToList();
        for (int i = 1; i < all.Count; i++)
            Assert.True(NameDescThenId(all[i - 1], all[i]) < 0, $"{all[i - 1]} before {all[i]}");
        var ranges = DuckDbQuery.Rows($"SELECT filename, min(name), max(name) FROM read_parquet([{string.Join(", ", files.Select(Local))}], filename = true) WHERE name IS NOT NULL GROUP BY filename ORDER BY max(name) DESC");
        for (int i = 1; i < ranges.Count; i++)
            Assert.True(string.CompareOrdinal(ranges[i][2], ranges[i - 1][1]) <= 0, $"file {ranges[i][0]} [{ranges[i][1]}, {ranges[i][2]}] overlaps {ranges[i - 1][0]} [{ranges[i - 1][1]}, {ranges[i - 1][2]}]");

        // Written in the order, the files are not rewritten again.
        Assert.Equal(0, (await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options { Strategy = RewriteStrategy.Sort, TargetFileSizeBytes = target })).Groups);
    }

    [Fact]
    public async Task A_z_order_clusters_rows_so_a_box_query_plans_few_files()
    {
        var table = await CreateAsync();
        var rows = await AppendAsync(table, files: 32, rows: 400);
        var box = Expression.And(
            Expression.And(Expression.GreaterThanOrEqual("x", 100), Expression.LessThan("x", 200)),
            Expression.And(Expression.GreaterThanOrEqual("y", 100), Expression.LessThan("y", 200)));
        var before = await LiveFilesAsync(table, box);
        Assert.Equal(32, before.Count); // random rows: every file's bounds cover the box

        var result = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options
        {
            Strategy = RewriteStrategy.Sort,
            SortOrder = "zorder(x, y)",
            TargetFileSizeBytes = TotalBytes(await LiveFilesAsync(table)) / 16,
            MaxGroupBytes = long.MaxValue,
        });
        Assert.Empty(result.Failures);
        Assert.Equal("zorder(x, y)", result.Order);
        var files = await LiveFilesAsync(table);
        Assert.InRange(files.Count, 10, 24);
        Assert.All(files, f => Assert.Equal(0, f.SortOrderId)); // a z-order is no sort order of the table
        var after = await LiveFilesAsync(table, box);
        Assert.True(after.Count * 4 <= files.Count, $"{after.Count} of {files.Count} z-ordered files overlap the box (all {before.Count} did before)");
        Assert.Equal(Expected(rows), await DuckDbTableAsync(table));
        Assert.Equal(rows.Count(r => r.X is >= 100 and < 200 && r.Y is >= 100 and < 200),
            int.Parse(DuckDbQuery.Rows($"SELECT count(*) FROM read_parquet([{string.Join(", ", after.Select(Local))}]) WHERE x >= 100 AND x < 200 AND y >= 100 AND y < 200")[0][0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_group_larger_than_the_memory_budget_is_sorted_through_spilled_runs()
    {
        var table = await CreateAsync();
        var rows = await AppendAsync(table, files: 12, rows: 500);
        var spill = Directory.CreateDirectory(Path.Combine(_dir.FullName, "spill"));

        var result = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options
        {
            Strategy = RewriteStrategy.Sort,
            SortOrder = "name DESC NULLS LAST, id",
            SortMemoryBytes = 16 * 1024, // a file's rows are about 12 KB of Arrow buffers: a run every two files
            SpillDirectory = spill.FullName,
        });
        Assert.Empty(result.Failures);
        Assert.True(result.RunsSpilled >= 4, $"{result.RunsSpilled} runs spilled");
        Assert.Empty(spill.EnumerateFileSystemInfos()); // the runs are gone with the sort
        var file = Assert.Single(await LiveFilesAsync(table));
        Assert.Equal(0, file.SortOrderId); // the table has no sort order
        var read = DuckDbRows(file);
        for (int i = 1; i < read.Count; i++)
            Assert.True(NameDescThenId(read[i - 1], read[i]) < 0, $"{read[i - 1]} before {read[i]}");
        Assert.Equal(Expected(rows), await DuckDbTableAsync(table));
    }

    [Fact]
    public async Task An_append_committed_during_a_sort_is_kept()
    {
        var table = await CreateAsync("id DESC");
        var rows = await AppendAsync(table, files: 10, rows: 100);
        var other = await Table.LoadAsync(_store, new FileTableCommitter(_store, "db/t"));
        List<Row> appended = [];
        var meanwhile = new Meanwhile(async () =>
        {
            await other.RefreshAsync();
            appended = await AppendAsync(other, files: 1, rows: 50);
        });

        var result = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options { Strategy = RewriteStrategy.Sort }, meanwhile);
        Assert.Empty(result.Failures);
        Assert.Equal(1, result.GroupsCommitted);
        Assert.Equal(50, appended.Count);
        var files = await LiveFilesAsync(table);
        Assert.Equal(2, files.Count); // the sorted file, and the append's, untouched
        Assert.Single(files, f => f.SortOrderId == 1);
        Assert.Equal(Expected(rows.Concat(appended)), await DuckDbTableAsync(table));
        var sorted = DuckDbRows(files.Single(f => f.SortOrderId == 1));
        Assert.Equal(rows.Select(r => r.Id).OrderDescending(), sorted.Select(r => r.Id));
    }

    [Fact]
    public async Task A_sort_of_a_table_without_a_sort_order_needs_one()
    {
        var table = await CreateAsync();
        await AppendAsync(table, files: 6, rows: 10);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options { Strategy = RewriteStrategy.Sort }));
        Assert.Contains("no sort order", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<ArgumentException>(() => new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options { Strategy = RewriteStrategy.Sort, SortOrder = "zorder(x, nope)" }));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
    }
}
