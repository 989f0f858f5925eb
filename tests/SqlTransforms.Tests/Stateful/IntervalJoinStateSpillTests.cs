using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;
using static DataPlane.SqlTransforms.Tests.Stateful.TwoStreamJoinRun;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// An interval join's kept rows under the state budget: two out-of-order streams over hundreds of keys, the right one's
/// watermark far behind so the left's rows wait in the join, joined (inner, left, right, full) on key and
/// <c>a.ts BETWEEN b.ts - 2s AND b.ts + 1s</c> with a budget of a few KiB, so that the join spills buckets of rows to
/// runs on disk and pairs them when the watermarks pass them. The rows are those of the same run all in memory (late
/// rows too), and DuckDB's batch join when none is late; a snapshot taken while rows are on disk, restored with another
/// shard count, continues to the same rows; the spill folder is empty at the end.
/// </summary>
public sealed class IntervalJoinStateSpillTests : IDisposable
{
    private const long Second = 1_000_000;
    private const long Budget = 8 * 1024;


    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-interval-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    private static string Sql(string kind, int leftDelay = 5, int rightDelay = 30) =>
        $"WATERMARK FOR l.ts AS ts - INTERVAL '{leftDelay}' SECOND;\nWATERMARK FOR r.ts AS ts - INTERVAL '{rightDelay}' SECOND;\n"
        + "INSERT INTO out SELECT a.ts AS a_ts, a.k AS a_k, a.v, b.ts AS b_ts, b.k AS b_k, b.w "
        + $"FROM l a {kind} JOIN r b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '2' SECOND AND b.ts + INTERVAL '1' SECOND";

    private const string Theirs =
        "SELECT a.ts, a.k, a.v, b.ts, b.k, b.w FROM l a {0} JOIN r b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL 2 SECOND AND b.ts + INTERVAL 1 SECOND";

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void An_interval_join_over_more_rows_than_its_budget_spills_and_gives_the_in_memory_rows_and_duckdbs(string kind)
    {
        var (left, right, batches) = Streams(new Random(20_261_206), late: false);
        string sql = Sql(kind);

        var (inMemory, _) = Run(sql, batches, StateOptions.InMemory);
        var (counted, roomy) = Run(sql, batches, new StateOptions { Shards = 3, MemoryBytes = 1L << 30, SpillDirectory = _spill });
        var (spilled, use) = Run(sql, batches, new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill });

        Assert.Equal(0, roomy.RunsSpilled);
        Assert.True(roomy.PeakHeld > 8 * Budget, $"{roomy.PeakHeld} bytes held at most without spilling");
        Assert.True(use.RunsSpilled > 50, $"{use.RunsSpilled} runs spilled");
        Same(inMemory, counted);
        Same(inMemory, spilled);
        if (kind != "INNER") Assert.Contains(spilled, r => r.Contains("NULL", StringComparison.Ordinal));
        Assert.Contains(spilled, r => !r.Contains("NULL", StringComparison.Ordinal));

        using var duck = new DuckDbOracle();
        duck.Load("l", LeftColumns, left);
        duck.Load("r", RightColumns, right);
        var (expected, error) = duck.Query(string.Format(System.Globalization.CultureInfo.InvariantCulture, Theirs, kind));
        Assert.Null(error);
        Same(expected!, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>Streams jittered back by up to three times the left watermark's delay: some rows come late, some of them
    /// after rows they could match were forgotten (in memory) or spilled (with the right watermark far behind, spilled
    /// rows wait long past going out of reach); the spilling join pairs exactly what the in-memory one does.</summary>
    [Theory]
    [InlineData("INNER", 2, 3)]
    [InlineData("INNER", 2, 20)]
    [InlineData("LEFT", 3, 3)]
    [InlineData("RIGHT", 1, 3)]
    [InlineData("FULL", 3, 3)]
    [InlineData("FULL", 2, 20)]
    public void Late_rows_pair_with_spilled_rows_as_they_would_in_memory(string kind, int shards, int rightDelay)
    {
        var (_, _, batches) = Streams(new Random(31 + shards), late: true);
        string sql = Sql(kind, 2, rightDelay);
        var (inMemory, _) = Run(sql, batches, StateOptions.InMemory);
        var (spilled, use) = Run(sql, batches, new StateOptions { Shards = shards, MemoryBytes = 4 * 1024, SpillDirectory = _spill });
        Assert.True(use.RunsSpilled > 20, $"{use.RunsSpilled} runs spilled");
        Same(inMemory, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData("INNER")]
    [InlineData("FULL")]
    public void An_interval_join_whose_rows_all_wait_for_the_end_of_input_spills_them_and_pairs_them_there(string kind)
    {
        var (left, right, batches) = Streams(new Random(11), late: false);
        string sql = Sql(kind, 3600, 3600);
        var (inMemory, _) = Run(sql, batches, StateOptions.InMemory);
        var (spilled, use) = Run(sql, batches, new StateOptions { Shards = 2, MemoryBytes = Budget, SpillDirectory = _spill });
        Assert.True(use.RunsSpilled > 50, $"{use.RunsSpilled} runs spilled");
        Same(inMemory, spilled);
        using var duck = new DuckDbOracle();
        duck.Load("l", LeftColumns, left);
        duck.Load("r", RightColumns, right);
        var (expected, error) = duck.Query(string.Format(System.Globalization.CultureInfo.InvariantCulture, Theirs, kind));
        Assert.Null(error);
        Same(expected!, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData("FULL", 1, false)]
    [InlineData("FULL", 2, true)]
    [InlineData("FULL", 5, true)]
    [InlineData("LEFT", 3, false)]
    [InlineData("RIGHT", 4, true)]
    [InlineData("INNER", 4, true)]
    public void A_snapshot_taken_while_spilled_restored_with_another_shard_count_continues_to_the_same_rows(string kind, int shards, bool apart)
    {
        var (_, _, batches) = Streams(new Random(7), late: true);
        string sql = Sql(kind, 2, 20);
        var (uninterrupted, _) = Run(sql, batches, StateOptions.InMemory);

        var three = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        // restored within the budget (spilling again), and without one (the spilled buckets' rows held until they close)
        foreach (var restoreWith in new[] { three with { Shards = shards }, new StateOptions { Shards = shards } })
        {
            var (restored, use) = Run(sql, batches, three, cut: batches.Count / 2, restoreWith: restoreWith, apart: apart);
            Same(uninterrupted, restored);
            Assert.True(use.RunsSpilled > 10, $"{use.RunsSpilled} runs spilled");
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>A window over the join's pairs downstream: the pairs of spilled rows come out when their bucket closes,
    /// after the watermarks moved on, and the join's output watermark waits for them, so none is late for the window.</summary>
    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    public void Pairs_of_spilled_rows_are_not_late_for_a_window_downstream(string kind)
    {
        var (_, _, batches) = Streams(new Random(5), late: false);
        string sql = "WATERMARK FOR l.ts AS ts - INTERVAL '5' SECOND;\nWATERMARK FOR r.ts AS ts - INTERVAL '30' SECOND;\n"
            + "INSERT INTO out SELECT window_start, count(*) AS n, count(w) AS m, sum(v) AS s FROM (SELECT a.ts AS ts, a.v, b.w "
            + $"FROM l a {kind} JOIN r b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '2' SECOND AND b.ts + INTERVAL '1' SECOND) "
            + "GROUP BY tumble(INTERVAL '1' SECOND)";
        var (inMemory, _) = Run(sql, batches, StateOptions.InMemory);
        var (spilled, use) = Run(sql, batches, new StateOptions { Shards = 2, MemoryBytes = Budget, SpillDirectory = _spill });
        Assert.True(use.RunsSpilled > 50, $"{use.RunsSpilled} runs spilled");
        Assert.True(inMemory.Count > 50, $"{inMemory.Count} windows");
        Same(inMemory, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    private static void Same(IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var a = expected.Order(StringComparer.Ordinal).ToList();
        var b = actual.Order(StringComparer.Ordinal).ToList();
        Assert.True(a.Count == b.Count && a.Zip(b).All(p => CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)),
            $"{a.Count} rows expected, {b.Count} here; only expected: {string.Join("; ", a.Except(b).Take(3))}; only here: {string.Join("; ", b.Except(a).Take(3))}");
    }

    /// <summary>
    /// Two streams of 3000 records, 50 a second over 300 keys (and a few NULL), jittered back by less than 4 seconds
    /// (none late with the watermarks' delays of 5 and 30 seconds) or, <paramref name="late"/>, by up to 6 seconds, in
    /// batches of up to 50 interleaved at random.
    /// </summary>
    private static (List<object?[]> Left, List<object?[]> Right, List<(string Source, List<object?[]> Rows)> Batches) Streams(Random random, bool late)
    {
        List<object?[]> Records()
        {
            var records = new List<object?[]>();
            for (int i = 0; i < 3000; i++)
            {
                long ts = Start + i * Second / 50 - random.Next(0, late ? 6000 : 4000) * 1000L;
                string? key = random.Next(100) == 0 ? null : "key-" + random.Next(300);
                records.Add([ts, key, random.Next(10) == 0 ? null : random.Next(-3, 12)]);
            }
            return records;
        }
        var left = Records();
        var right = Records();
        return (left, right, TwoStreamJoinRun.Interleave(left, right, random));
    }

    private (List<string> Rows, StateMemoryUse Use) Run(string sql, List<(string Source, List<object?[]> Rows)> batches, StateOptions options,
        int cut = -1, StateOptions? restoreWith = null, bool apart = false) =>
        TwoStreamJoinRun.Run(sql, batches, options, _spill, cut, restoreWith, apart);
}
