using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// An updating aggregate (GROUP BY keys without a window) over more keys than its state budget: its shards spill to
/// sorted runs on disk with a flag per key saying whether it changed since the last flush, and each flush folds them.
/// Every flush emits the rows of the same run all in memory (the same keys, the same values), the rows emitted so far
/// give each key's value that DuckDB's GROUP BY over the records so far gives, the runs never pile up, and a snapshot
/// taken while spilled (between flushes, with changes pending) restored with another shard count continues to the same rows.
/// </summary>
public sealed class UpdatingStateSpillTests : IDisposable
{
    private const long Start = 1_704_067_200_000_000; // 2024-01-01 00:00:00

    private static readonly Schema Schema = new([
        ArrowTypes.Field("k", SqlType.Varchar, true), ArrowTypes.Field("v", SqlType.Integer, true),
        ArrowTypes.Field("x", SqlType.Double, true), ArrowTypes.Field("i", SqlType.BigInt, true)], null);

    private static readonly IReadOnlyList<(string Name, SqlType Type, bool Nullable)> Columns =
        [("k", SqlType.Varchar, true), ("v", SqlType.Integer, true), ("x", SqlType.Double, true), ("i", SqlType.BigInt, true)];

    /// <summary>Ours, and DuckDB's for the same answer (arrival order is the order of <c>i</c>).</summary>
    private const string Sql = "INSERT INTO out SELECT k, count(*) AS n, sum(v) AS s, min(v) AS lo, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, " +
        "first_value(v) AS f, last_value(x) AS lx, array_agg(v) AS l FROM input GROUP BY k";

    private const string TheirSql = "SELECT k, count(*) AS n, sum(v) AS s, min(v) AS lo, max(x) AS mx, count(DISTINCT v) AS d, avg(x) AS a, " +
        "first(v ORDER BY i) AS f, last(x ORDER BY i) AS lx, array_agg(v ORDER BY i) AS l FROM t WHERE k IS NOT NULL AND i < {0} GROUP BY k";

    private const long Budget = 32 * 1024;

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-updating-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    [Fact]
    public void Every_flush_over_more_keys_than_the_budget_emits_the_in_memory_rows_and_the_state_equals_duckdbs_group_by()
    {
        var random = new Random(20_261_205);
        var records = Records(random, 9000, 3000);
        var batches = Batches(random, records);
        var flushes = FlushPoints(batches.Count, 8);

        var inMemory = Run(batches, flushes, StateOptions.InMemory);
        var options = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        var spilled = Run(batches, flushes, options, afterFlush: () =>
            // a flush folds each spilled shard's runs into one: they never pile up
            Assert.True(RunFiles() <= options.Shards, $"{RunFiles()} runs on disk after a flush"));

        Assert.True(spilled.Use.RunsSpilled > 50, $"{spilled.Use.RunsSpilled} runs spilled");
        Assert.True(spilled.Use.PeakHeld < 2 * Budget, $"{spilled.Use.PeakHeld} bytes held at most");
        Assert.Equal(flushes.Count, spilled.Flushes.Count);
        using var duck = new DuckDbOracle();
        duck.Load("t", Columns, records);
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int f = 0; f < flushes.Count; f++)
        {
            Assert.NotEmpty(spilled.Flushes[f]);
            Same($"flush {f}", inMemory.Flushes[f], spilled.Flushes[f]);
            // each key once per flush, over its older row, as the sink writes it
            foreach (var row in spilled.Flushes[f]) current[KeyOf(row)] = row;
            Assert.Equal(spilled.Flushes[f].Count, spilled.Flushes[f].Select(KeyOf).Distinct(StringComparer.Ordinal).Count());
            int pushed = batches.Take(flushes[f]).Sum(b => b.Count);
            var (expected, error) = duck.Query(string.Format(System.Globalization.CultureInfo.InvariantCulture, TheirSql, pushed));
            Assert.Null(error);
            Same($"the state after flush {f}", expected!, current.Values);
        }
        // the execution's runs go with it, and its folder with the last
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(5, true)]
    public void A_snapshot_taken_while_spilled_restored_with_another_shard_count_continues_to_the_same_rows(int shards, bool apart)
    {
        var random = new Random(4);
        var batches = Batches(random, Records(random, 5000, 1500));
        var flushes = FlushPoints(batches.Count, 6);
        var uninterrupted = Run(batches, flushes, StateOptions.InMemory);

        var three = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        // between two flushes (keys changed and not emitted yet, some of them spilled), and right after one
        foreach (int cut in new[] { (flushes[2] + flushes[3]) / 2, flushes[3] })
            foreach (var restoreWith in new[] { three with { Shards = shards }, StateOptions.InMemory with { Shards = shards } })
            {
                var restored = Run(batches, flushes, three, cut, restoreWith, apart);
                Assert.True(restored.Use.RunsSpilled > 10, $"{restored.Use.RunsSpilled} runs spilled");
                Assert.Equal(flushes.Count, restored.Flushes.Count);
                for (int f = 0; f < flushes.Count; f++) Same($"flush {f} (cut at batch {cut})", uninterrupted.Flushes[f], restored.Flushes[f]);
            }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Fact]
    public void A_snapshot_of_the_layout_before_shards_restored_with_shards_continues_to_the_same_rows()
    {
        // Checkpoints written before the updating aggregate had shards hold one key table, its aggregates and the ids of
        // the keys changed; a pipeline upgraded from then restores from one.
        var random = new Random(11);
        var batches = Batches(random, Records(random, 3000, 800));
        var flushes = FlushPoints(batches.Count, 5);
        var uninterrupted = Run(batches, flushes, StateOptions.InMemory);
        int cut = (flushes[1] + flushes[2]) / 2;
        var spilling = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        foreach (var restoreWith in new[] { spilling, StateOptions.InMemory })
        {
            var restored = Run(batches, flushes, StateOptions.InMemory, cut, restoreWith, rewrite: BeforeShards);
            for (int f = 0; f < flushes.Count; f++) Same($"flush {f}", uninterrupted.Flushes[f], restored.Flushes[f]);
            Assert.Equal(restoreWith == spilling, restored.Use.RunsSpilled > 0);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>
    /// A snapshot in one stream of one shard all in memory, its updating aggregate's state (the last thing in it) as
    /// before shards: without the layout (-1), the shard count (1) and the true before the one key table, nor the false after it.
    /// </summary>
    private static byte[] BeforeShards(byte[] snapshot)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) writer.Write("UpdatingAggregateOperator");
        var name = stream.ToArray();
        int at = snapshot.AsSpan().IndexOf(name) + name.Length;
        Assert.True(at > name.Length);
        var state = snapshot.AsSpan(at);
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 1], state[..9].ToArray());
        Assert.Equal(0, state[^1]);
        return [.. snapshot.AsSpan(0, at), .. state[9..^1]];
    }

    private int RunFiles() => Directory.EnumerateFiles(_spill, "*", SearchOption.AllDirectories).Count();

    private static string KeyOf(string row) => row[..row.IndexOf(" | ", StringComparison.Ordinal)];

    /// <summary>The same rows in any order, doubles within rounding (partial sums merged in another order differ in the last digit).</summary>
    private static void Same(string what, IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var a = expected.Order(StringComparer.Ordinal).ToList();
        var b = actual.Order(StringComparer.Ordinal).ToList();
        Assert.True(a.Count == b.Count && a.Zip(b).All(p => CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)),
            $"{what}: {a.Count} rows expected, {b.Count} here; only expected: {string.Join("; ", a.Except(b).Take(3))}; only here: {string.Join("; ", b.Except(a).Take(3))}");
    }

    /// <summary>Records over <paramref name="keys"/> keys (most of them seen a few times, in no order) and a few NULL keys; <c>i</c> numbers them.</summary>
    private static List<object?[]> Records(Random random, int n, int keys)
    {
        var records = new List<object?[]>(n);
        for (int i = 0; i < n; i++)
        {
            string? key = random.Next(60) == 0 ? null : "key-" + random.Next(keys);
            records.Add([key, random.Next(8) == 0 ? null : random.Next(-3, 12), random.Next(8) == 0 ? null : Math.Round(random.NextDouble() * 20 - 5, 2), (long)i]);
        }
        return records;
    }

    private static List<List<object?[]>> Batches(Random random, List<object?[]> records)
    {
        var batches = new List<List<object?[]>>();
        for (int at = 0; at < records.Count;)
        {
            int size = Math.Min(records.Count - at, random.Next(1, 300));
            batches.Add(records.GetRange(at, size));
            at += size;
        }
        return batches;
    }

    /// <summary><paramref name="count"/> points (numbers of batches pushed) at which a sink commits, the last after every batch.</summary>
    private static List<int> FlushPoints(int batches, int count) => Enumerable.Range(1, count).Select(p => batches * p / count).ToList();

    /// <summary>
    /// Pushes the batches, flushing (a sink's commit) after the numbers of batches in <paramref name="flushes"/>; at
    /// <paramref name="cut"/>, saves the state, drops the execution (and what it spilled) and goes on in a new one
    /// restored from it with <paramref name="restoreWith"/>. With <paramref name="apart"/>, each shard is saved in a
    /// stream of its own, read last first. Answers the rows of each flush.
    /// </summary>
    private static (List<List<string>> Flushes, StateMemoryUse Use) Run(List<List<object?[]>> batches, List<int> flushes, StateOptions options,
        int cut = -1, StateOptions? restoreWith = null, bool apart = false, Action? afterFlush = null, Func<byte[], byte[]>? rewrite = null)
    {
        var sources = new Dictionary<string, Schema> { ["input"] = Schema };
        var program = SqlProgram.Compile(Sql, sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var result = new List<List<string>>();
        var execution = program.Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, options);
        int runs = 0;
        long peak = 0;
        for (int i = 0; i < batches.Count; i++)
        {
            if (i == cut)
            {
                runs += execution.StateMemoryUse.RunsSpilled;
                peak = execution.StateMemoryUse.PeakHeld;
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
                if (rewrite is not null) state = new MemoryStream(rewrite(state.ToArray()));
                execution.Dispose();
                state.Position = 0;
                execution = SqlProgram.Compile(Sql, sources, SqlMode.Streaming).Start(0, b => rows.AddRange(RowText.Rows([b], types)), () => Start, restoreWith);
                Assert.Equal(shards.Count, execution.RestoreState(state));
                foreach (var shard in Enumerable.Reverse(shards))
                {
                    shard.Position = 0;
                    execution.RestoreShard(shard);
                }
            }
            var batch = batches[i];
            var arrays = Columns.Select((c, j) => ValueArrays.FromValues(c.Type, batch.Select(r => r[j]).ToList())).ToArray();
            execution.Push("input", new RecordBatch(Schema, arrays, batch.Count));
            if (!flushes.Contains(i + 1)) continue;
            execution.Flush();
            result.Add(rows.ToList());
            rows.Clear();
            afterFlush?.Invoke();
        }
        execution.Finish();
        Assert.Empty(rows); // the last flush was after the last batch
        var use = execution.StateMemoryUse;
        execution.Dispose();
        return (result, use with { RunsSpilled = use.RunsSpilled + runs, PeakHeld = Math.Max(peak, use.PeakHeld) });
    }
}
