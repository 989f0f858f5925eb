using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Differential;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Top-N and deduplication per window with their state split into shards and bounded in memory: over thousands of keys
/// (a hundred hot ones with many rows each, the rest with few) and a budget so small that the kept rows spill to sorted
/// runs many times per window, each query gives exactly the rows of the same run all in memory (the same winner of
/// every tie, which goes to the earlier arrival), and DuckDB's batch answer over the records on time; a snapshot taken
/// while rows are spilled, restored with another shard count, continues to the same rows; no run is left behind.
/// </summary>
public sealed class TopNStateSpillTests : IDisposable
{
    private const long Second = 1_000_000;
    private const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00, as StateSpillTests
    private const long Delay = 5 * Second;
    private const long Budget = 32 * 1024;

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-topn-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    private StateOptions Small(int shards) => new() { Shards = shards, MemoryBytes = Budget, SpillDirectory = _spill };

    [Fact]
    public void Row_number_top_n_over_a_tumble_spills_and_gives_the_in_memory_rows_and_duckdbs()
    {
        var random = new Random(20_261_205);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 12_000, 2000, 15));
        // ties in v are many: which tied row is kept (the earlier arrival) must not change when the rows spill
        string sql = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, ts, v, x, rn FROM "
            + "(SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '30 seconds'), k ORDER BY v DESC NULLS LAST) AS rn FROM input) WHERE rn <= 2";

        var (inMemory, _, _) = StateSpillTests.Run(sql, batches, StateOptions.InMemory);
        var (spilled, late, use) = StateSpillTests.Run(sql, batches, Small(3));

        Spilled(use);
        Assert.Equal(inMemory.Order(StringComparer.Ordinal), spilled.Order(StringComparer.Ordinal));
        // DuckDB numbers tied rows either way round: the window, key, value and number are what ties cannot change
        var expected = DuckDb(batches, late,
            $"SELECT ws, we, k, v, row_number() OVER (PARTITION BY ws, k ORDER BY v DESC NULLS LAST) AS rn FROM ({Tumble(30)}) QUALIFY rn <= 2");
        StateSpillTests.Same(expected, Project(spilled, 0, 1, 2, 4, 6));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData("rank")]
    [InlineData("dense_rank")]
    public void Rank_with_ties_over_a_hop_spills_and_gives_the_in_memory_rows_and_duckdbs(string function)
    {
        var random = new Random(function.Length);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 12_000, 2000, 4));
        string sql = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, ts, v, x, r FROM "
            + $"(SELECT *, {function}() OVER (PARTITION BY hop(INTERVAL '10 seconds', INTERVAL '30 seconds'), k ORDER BY v) AS r FROM input) WHERE r <= 2";

        var (inMemory, _, _) = StateSpillTests.Run(sql, batches, StateOptions.InMemory);
        var (spilled, late, use) = StateSpillTests.Run(sql, batches, Small(2));

        Spilled(use);
        Assert.Equal(inMemory.Order(StringComparer.Ordinal), spilled.Order(StringComparer.Ordinal));
        Assert.Contains(spilled, r => r.EndsWith(" | 2", StringComparison.Ordinal)); // ties and second places were kept
        // every row tied within the limit is kept, so the whole rows are DuckDB's
        var expected = DuckDb(batches, late,
            $"SELECT ws, we, k, ts, v, x, {function}() OVER (PARTITION BY ws, k ORDER BY v) AS r FROM ({Hop(10, 30)}) QUALIFY r <= 2");
        StateSpillTests.Same(expected, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData("tumble(INTERVAL '20 seconds')", "ts")]
    [InlineData("hop(INTERVAL '10 seconds', INTERVAL '20 seconds')", "ts")]
    [InlineData("tumble(INTERVAL '20 seconds')", "ts DESC")]
    public void First_row_deduplication_spills_and_gives_the_in_memory_rows_and_duckdbs(string window, string order)
    {
        var random = new Random(window.Length + order.Length);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 12_000, 3000, 15));
        string sql = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, ts, v, x, rn FROM "
            + $"(SELECT *, row_number() OVER (PARTITION BY {window}, k ORDER BY {order}) AS rn FROM input) WHERE rn = 1";

        var (inMemory, _, _) = StateSpillTests.Run(sql, batches, StateOptions.InMemory);
        var (spilled, late, use) = StateSpillTests.Run(sql, batches, Small(3));

        Spilled(use);
        Assert.Equal(inMemory.Order(StringComparer.Ordinal), spilled.Order(StringComparer.Ordinal));
        string windowed = window.StartsWith("tumble", StringComparison.Ordinal) ? Tumble(20) : Hop(10, 20);
        var expected = DuckDb(batches, late, $"SELECT ws, we, k, ts, v, x, row_number() OVER (PARTITION BY ws, k ORDER BY {order}) AS rn FROM ({windowed}) QUALIFY rn = 1");
        StateSpillTests.Same(expected, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void A_snapshot_taken_while_spilled_restored_with_another_shard_count_continues_to_the_same_rows(int shards, bool apart)
    {
        var random = new Random(41);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 8000, 2000, 6));
        string sql = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, ts, v, x, rn, r FROM "
            + "(SELECT *, row_number() OVER (PARTITION BY hop(INTERVAL '10 seconds', INTERVAL '30 seconds'), k ORDER BY v DESC) AS rn, "
            + "rank() OVER (PARTITION BY hop(INTERVAL '10 seconds', INTERVAL '30 seconds'), k ORDER BY v DESC) AS r FROM input) WHERE rn <= 3";
        var (uninterrupted, _, _) = StateSpillTests.Run(sql, batches, StateOptions.InMemory);

        int runsAtCut = 0;
        var four = Small(4);
        var (restored, _, use) = StateSpillTests.Run(sql, batches, four, cut: batches.Count / 2, restoreWith: four with { Shards = shards }, apart: apart,
            atCut: _ => runsAtCut = Directory.EnumerateFiles(_spill, "*", SearchOption.AllDirectories).Count());

        Assert.True(runsAtCut > 0, "nothing was spilled when the snapshot was taken");
        Assert.True(use.RunsSpilled > runsAtCut, $"{use.RunsSpilled} runs spilled");
        Assert.Equal(uninterrupted.Order(StringComparer.Ordinal), restored.Order(StringComparer.Ordinal));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    private static void Spilled(StateMemoryUse use)
    {
        Assert.True(use.RunsSpilled > 20, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld < 2 * Budget, $"{use.PeakHeld} bytes held at most, over a budget of {Budget}");
    }

    /// <summary>DuckDB's answer over the records the watermark keeps (as many late as ours counted).</summary>
    private static List<string> DuckDb(List<(List<object?[]> Rows, int Partition)> batches, long late, string sql)
    {
        var (onTime, expectedLate) = WindowsAgainstDuckDbTests.OnTime(batches, Delay);
        Assert.Equal(expectedLate, late);
        Assert.True(late > 0, "no record was late");
        using var duck = new DuckDbOracle();
        duck.Load("t", WindowsAgainstDuckDbTests.Columns, onTime);
        // IntendedDifferences.DuckDbTopNRewrite: DuckDB's top-N rewrite is wrong in some queries
        var (rows, error) = duck.QueryWithout("top_n_window_elimination", sql);
        Assert.Null(error);
        Assert.NotEmpty(rows!);
        return rows!;
    }

    private static string Tumble(long seconds)
    {
        long width = seconds * Second;
        return $"SELECT *, make_timestamp(epoch_us(ts) // {width} * {width}) AS ws, make_timestamp(epoch_us(ts) // {width} * {width} + {width}) AS we FROM t";
    }

    /// <summary>Each record of t once per hop window holding it, with the window's ws and we.</summary>
    private static string Hop(long slideSeconds, long widthSeconds)
    {
        long slide = slideSeconds * Second, width = widthSeconds * Second;
        long copies = (width + slide - 1) / slide + 1;
        return $"SELECT * EXCLUDE (j, s), make_timestamp(s) AS ws, make_timestamp(s + {width}) AS we FROM "
            + $"(SELECT *, (epoch_us(ts) // {slide} - j) * {slide} AS s FROM t, range(0, {copies}) r(j)) WHERE epoch_us(ts) < s + {width}";
    }

    private static List<string> Project(IEnumerable<string> rows, params int[] columns) =>
        rows.Select(r => r.Split(" | ")).Select(v => string.Join(" | ", columns.Select(c => v[c]))).ToList();

    /// <summary>
    /// <paramref name="n"/> records, 100 a second, jittered back by up to 1.5 times the delay (a few far behind, late);
    /// half over 100 hot keys (many rows per key and window, so the limit drops rows), half over <paramref name="keys"/>
    /// cold ones, and NULL; v in [0, <paramref name="values"/>) or NULL, so rows tie.
    /// </summary>
    private static List<object?[]> Records(Random random, int n, int keys, int values)
    {
        const long Unique = 1 << 14;
        Assert.True(n < Unique);
        var records = new List<object?[]>(n);
        for (int i = 0; i < n; i++)
        {
            long jitter = (long)(random.NextDouble() * 1.5 * (Delay + Second));
            if (random.Next(200) == 0) jitter += 60 * Second;
            long ts = Start + Math.DivRem(i * Second / 100 - jitter, Unique).Quotient * Unique + i; // no two records share a time (n < Unique)
            string? key = random.Next(100) == 0 ? null : random.Next(2) == 0 ? "hot-" + random.Next(100) : "key-" + random.Next(keys);
            records.Add([ts, key, random.Next(10) == 0 ? null : random.Next(values), random.Next(8) == 0 ? null : Math.Round(random.NextDouble() * 20 - 5, 2)]);
        }
        return records;
    }
}
