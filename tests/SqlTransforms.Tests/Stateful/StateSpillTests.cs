using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Keyed state split into shards and bounded in memory: a keyed tumble (and hop) over many keys with a budget so small
/// that its groups spill to sorted runs on disk many times per window gives the rows of the same run all in memory,
/// and DuckDB's batch answer over the records on time; a snapshot written with one shard count and restored with
/// another continues to the same rows.
/// </summary>
public sealed class StateSpillTests : IDisposable
{
    private const long Second = 1_000_000;
    private const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00
    private const long Delay = 5 * Second;

    private static readonly Schema Schema = new([
        ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true),
        ArrowTypes.Field("v", SqlType.Integer, true), ArrowTypes.Field("x", SqlType.Double, true)], null);

    private const string Aggregates = "count(*) AS n, sum(v) AS s, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, first_value(v) AS f, array_agg(v) AS l";
    private const string TheirAggregates = "count(*) AS n, sum(v) AS s, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, first(v ORDER BY ts) AS f, array_agg(v ORDER BY ts) AS l";

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    [Fact]
    public void A_tumble_over_more_keys_than_its_budget_spills_and_gives_the_in_memory_rows_and_duckdbs()
    {
        var random = new Random(20_261_205);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 4000, 900));
        string sql = $"WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, {Aggregates} FROM input GROUP BY tumble(INTERVAL '20 seconds'), k";

        var (inMemory, _, _) = Run(sql, batches, StateOptions.InMemory);
        var small = new StateOptions { Shards = 3, MemoryBytes = 16 * 1024, SpillDirectory = _spill };
        var (spilled, late, use) = Run(sql, batches, small);

        Assert.True(use.RunsSpilled > 20, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld < 2 * small.MemoryBytes, $"{use.PeakHeld} bytes held at most");
        Same(inMemory, spilled);
        var (onTime, expectedLate) = WindowsAgainstDuckDbTests.OnTime(batches, Delay);
        Assert.Equal(expectedLate, late);
        Assert.True(late > 0, "no record was late");
        using var duck = new DuckDbOracle();
        duck.Load("t", WindowsAgainstDuckDbTests.Columns, onTime);
        var (expected, error) = duck.Query(
            $"SELECT make_timestamp(epoch_us(ts) // 20000000 * 20000000) AS ws, make_timestamp(epoch_us(ts) // 20000000 * 20000000 + 20000000) AS we, k, {TheirAggregates} FROM t GROUP BY ws, we, k");
        Assert.Null(error);
        Same(expected!, spilled);
        // every run was merged and deleted as its window closed, and the execution's folder with the last
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Fact]
    public void A_hop_whose_panes_spill_gives_the_in_memory_rows()
    {
        var random = new Random(17);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 3000, 400));
        string sql = $"WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, {Aggregates} FROM input GROUP BY hop(INTERVAL '4 seconds', INTERVAL '10 seconds'), k";
        var (inMemory, _, _) = Run(sql, batches, StateOptions.InMemory);
        var (spilled, _, use) = Run(sql, batches, new StateOptions { Shards = 2, MemoryBytes = 16 * 1024, SpillDirectory = _spill });
        Assert.True(use.RunsSpilled > 0);
        Same(inMemory, spilled);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void A_snapshot_of_four_shards_restored_with_another_count_continues_to_the_same_rows(int shards, bool apart)
    {
        var random = new Random(4);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 3000, 500));
        string sql = $"WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, {Aggregates} FROM input GROUP BY tumble(INTERVAL '30 seconds'), k";
        var (uninterrupted, _, _) = Run(sql, batches, new StateOptions { Shards = 4 });

        // in memory, and spilling: a snapshot holds the spilled groups too, and the restored execution spills them again
        foreach (long budget in new[] { long.MaxValue, 16 * 1024 })
        {
            var four = new StateOptions { Shards = 4, MemoryBytes = budget, SpillDirectory = _spill };
            var (restored, _, use) = Run(sql, batches, four, cut: batches.Count / 2, restoreWith: four with { Shards = shards }, apart: apart);
            Same(uninterrupted, restored);
            Assert.Equal(budget != long.MaxValue, use.RunsSpilled > 0);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Fact]
    public void A_snapshot_splits_keys_over_shards_by_a_hash_that_is_the_same_in_every_process()
    {
        // Restored with the same count, each shard's groups are taken whole: the same rows come out.
        var random = new Random(9);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 1000, 200));
        string sql = $"WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, count(*) AS n FROM input GROUP BY tumble(INTERVAL '30 seconds'), k";
        var three = new StateOptions { Shards = 3 };
        var (uninterrupted, _, _) = Run(sql, batches, three);
        var (restored, _, _) = Run(sql, batches, three, cut: batches.Count / 3, restoreWith: three);
        Same(uninterrupted, restored);
    }

    /// <summary>The same rows in any order, doubles within rounding (partial sums merged in another order differ in the last digit).</summary>
    internal static void Same(IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var a = expected.Order(StringComparer.Ordinal).ToList();
        var b = actual.Order(StringComparer.Ordinal).ToList();
        Assert.True(a.Count == b.Count && a.Zip(b).All(p => CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)),
            $"{a.Count} rows expected, {b.Count} here; only expected: {string.Join("; ", a.Except(b).Take(3))}; only here: {string.Join("; ", b.Except(a).Take(3))}");
    }

    /// <summary>Records 50 a second, jittered back by up to 1.5 times the delay (a few far behind), over <paramref name="keys"/> keys and NULL.</summary>
    internal static List<object?[]> Records(Random random, int n, int keys)
    {
        var records = new List<object?[]>(n);
        for (int i = 0; i < n; i++)
        {
            long jitter = (long)(random.NextDouble() * 1.5 * (Delay + Second));
            if (random.Next(200) == 0) jitter += 60 * Second;
            long ts = Start + i * Second / 50 - jitter + i; // + i: no two records share a time, so event-time order is total
            string? key = random.Next(50) == 0 ? null : "key-" + random.Next(keys);
            records.Add([ts, key, random.Next(8) == 0 ? null : random.Next(-3, 12), random.Next(8) == 0 ? null : Math.Round(random.NextDouble() * 20 - 5, 2)]);
        }
        return records;
    }

    [Fact]
    public void A_hop_snapshot_with_the_shards_apart_restored_with_another_count_continues_to_the_same_rows()
    {
        var random = new Random(5);
        var batches = WindowsAgainstDuckDbTests.Batches(random, Records(random, 3000, 400));
        string sql = $"WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\nINSERT INTO out SELECT window_start, window_end, k, {Aggregates} FROM input GROUP BY hop(INTERVAL '4 seconds', INTERVAL '10 seconds'), k";
        var (uninterrupted, _, _) = Run(sql, batches, StateOptions.InMemory);
        var three = new StateOptions { Shards = 3, MemoryBytes = 16 * 1024, SpillDirectory = _spill };
        var (restored, _, use) = Run(sql, batches, three, cut: batches.Count / 2, restoreWith: three with { Shards = 2 }, apart: true);
        Assert.True(use.RunsSpilled > 0);
        Same(uninterrupted, restored);
    }

    /// <summary>Runs the statement over the batches; at <paramref name="cut"/>, saves the state, drops the execution (and
    /// what it spilled) and goes on in a new one restored from it with <paramref name="restoreWith"/>. With
    /// <paramref name="apart"/>, the state is saved with each shard in a stream of its own, and those are read last first;
    /// <paramref name="atCut"/> sees the execution just before.</summary>
    internal static (List<string> Rows, long Late, StateMemoryUse Use) Run(string sql,
        List<(List<object?[]> Rows, int Partition)> batches, StateOptions options, int cut = -1, StateOptions? restoreWith = null, bool apart = false,
        Action<SqlExecution>? atCut = null)
    {
        var sources = new Dictionary<string, Schema> { ["input"] = Schema };
        var program = SqlProgram.Compile(sql, sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, options);
        long late = 0;
        int runs = 0;
        for (int i = 0; i < batches.Count; i++)
        {
            if (i == cut)
            {
                atCut?.Invoke(execution);
                late += Late(execution.Errors);
                runs += execution.StateMemoryUse.RunsSpilled;
                var state = new MemoryStream();
                var shards = new List<MemoryStream>();
                if (apart)
                {
                    for (int s = 0; s < execution.StateShards; s++)
                    {
                        shards.Add(new MemoryStream());
                        execution.SaveShard(s, shards[s]);
                    }
                    execution.SaveStateApart(state);
                }
                else
                    execution.SaveState(state);
                execution.Dispose();
                state.Position = 0;
                execution = SqlProgram.Compile(sql, sources, SqlMode.Streaming).Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, restoreWith);
                Assert.Equal(shards.Count, execution.RestoreState(state));
                foreach (var shard in Enumerable.Reverse(shards))
                {
                    shard.Position = 0;
                    execution.RestoreShard(shard);
                }
            }
            var (batchRows, partition) = batches[i];
            var arrays = WindowsAgainstDuckDbTests.Columns.Select((c, j) => ValueArrays.FromValues(c.Type, batchRows.Select(r => r[j]).ToList())).ToArray();
            execution.Push("input", new RecordBatch(Schema, arrays, batchRows.Count), partition);
        }
        execution.Finish();
        var use = execution.StateMemoryUse;
        return (rows, late + Late(execution.Errors), use with { RunsSpilled = use.RunsSpilled + runs });
    }

    private static long Late(RowErrorLog log) => log.Snapshot().Where(e => e.Reason.Code == "late").Sum(e => e.Count);
}
