using Apache.Arrow;
using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Tests.Differential;
using DataPlane.SqlTransforms.Types;
using Xunit;
using static DataPlane.SqlTransforms.Tests.Stateful.TwoStreamJoinRun;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// A window join's kept rows under the state budget: two streams of thousands of keys, the right one's watermark far
/// behind so the left's windows wait in the join, joined (inner, left, right, full) over tumble windows with a budget so
/// small that the join spills its windows to runs on disk and pairs them when they close. The rows are those of the same
/// run all in memory and DuckDB's batch join of the same windows; a snapshot taken while rows are on disk, restored
/// with another shard count, continues to the same rows; the spill folder is empty at the end.
/// </summary>
public sealed class JoinStateSpillTests : IDisposable
{
    private const long Second = 1_000_000;
    private const long Budget = 32 * 1024;


    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-join-spill-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    private static string Sql(string kind, int leftDelay = 5, int rightDelay = 30) =>
        $"WATERMARK FOR l.ts AS ts - INTERVAL '{leftDelay}' SECOND;\nWATERMARK FOR r.ts AS ts - INTERVAL '{rightDelay}' SECOND;\n"
        + "INSERT INTO out SELECT coalesce(a.window_start, b.window_start) AS window_start, a.k AS a_k, a.n, a.s, b.k AS b_k, b.m "
        + "FROM (SELECT window_start, window_end, k, count(*) AS n, sum(v) AS s FROM l GROUP BY tumble(INTERVAL '2 seconds'), k) a "
        + $"{kind} JOIN (SELECT window_start, window_end, k, max(w) AS m FROM r GROUP BY tumble(INTERVAL '2 seconds'), k) b "
        + "ON a.window_end = b.window_end AND a.k = b.k";

    private const string Theirs =
        "SELECT coalesce(a.ws, b.ws), a.k, a.n, a.s, b.k, b.m FROM "
        + "(SELECT make_timestamp(epoch_us(ts) // 2000000 * 2000000) AS ws, k, count(*) AS n, sum(v) AS s FROM l GROUP BY ALL) a {0} JOIN "
        + "(SELECT make_timestamp(epoch_us(ts) // 2000000 * 2000000) AS ws, k, max(w) AS m FROM r GROUP BY ALL) b ON a.ws = b.ws AND a.k = b.k";

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void A_window_join_over_more_rows_than_its_budget_spills_and_gives_the_in_memory_rows_and_duckdbs(string kind)
    {
        var random = new Random(20_261_205);
        var (left, right, batches) = Streams(random);
        string sql = Sql(kind);

        var (inMemory, _) = Run(sql, batches, StateOptions.InMemory);
        // counted but never spilled: what the state reaches without a budget, far more than the budget
        var (counted, roomy) = Run(sql, batches, new StateOptions { Shards = 3, MemoryBytes = 1L << 30, SpillDirectory = _spill });
        var small = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        var (spilled, use) = Run(sql, batches, small);

        Assert.Equal(0, roomy.RunsSpilled);
        Assert.True(roomy.PeakHeld > 8 * Budget, $"{roomy.PeakHeld} bytes held at most without spilling");
        Assert.True(use.RunsSpilled > 50, $"{use.RunsSpilled} runs spilled");
        Assert.True(use.PeakHeld < 2 * Budget, $"{use.PeakHeld} bytes held at most");
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
        // every run was joined and deleted as its window closed, and the execution's folder with the last
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    [Theory]
    [InlineData("INNER")]
    [InlineData("FULL")]
    public void A_window_join_whose_windows_all_close_at_the_end_of_input_spills_them_and_pairs_them_there(string kind)
    {
        // Watermarks an hour behind: every window reaches the join at the end of input, one side's after the other's,
        // over a budget its upstream windows already fill: the first side's rows spill, the second's are set aside,
        // and every window is paired when the join finishes.
        var random = new Random(11);
        var (left, right, batches) = Streams(random);
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
    [InlineData("INNER", 4, true)]
    public void A_snapshot_taken_while_spilled_restored_with_another_shard_count_continues_to_the_same_rows(string kind, int shards, bool apart)
    {
        var random = new Random(7);
        var (_, _, batches) = Streams(random);
        string sql = Sql(kind);
        var (uninterrupted, _) = Run(sql, batches, StateOptions.InMemory);

        var three = new StateOptions { Shards = 3, MemoryBytes = Budget, SpillDirectory = _spill };
        // restored within the budget (spilling again), and without one (the spilled windows' rows held until they close)
        foreach (var restoreWith in new[] { three with { Shards = shards }, new StateOptions { Shards = shards } })
        {
            var (restored, use) = Run(sql, batches, three, cut: batches.Count / 2, restoreWith: restoreWith, apart: apart);
            Same(uninterrupted, restored);
            Assert.True(use.RunsSpilled > 10, $"{use.RunsSpilled} runs spilled");
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>
    /// The join alone, fed windows' rows on both sides before either watermark passes them (as at the end of input,
    /// when every pending window reaches it at once): rows of a window are kept on both sides, paired as they arrive,
    /// before the window spills; its close must pair the rows that arrive after the spill with all the others, but not
    /// the rows that spilled together again, and show unmatched exactly the rows that never matched. The same rows as
    /// all in memory, also through a snapshot restored with another shard count.
    /// </summary>
    [Theory]
    [InlineData("Inner")]
    [InlineData("Left")]
    [InlineData("Right")]
    [InlineData("Full")]
    public void Rows_kept_on_both_sides_before_their_window_spills_pair_once(string kindName)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        for (int seed = 0; seed < 8; seed++)
        {
            var steps = Steps(new Random(seed));
            var inMemory = Drive(kind, steps, new StateOptions());
            using var memory = new StateMemory(new StateOptions { Shards = 3, MemoryBytes = 6 * 1024, SpillDirectory = _spill });
            var spilled = Drive(kind, steps, memory.Options, memory);
            Assert.True(memory.RunsSpilled > 5, $"seed {seed}: {memory.RunsSpilled} runs spilled");
            Assert.Contains(inMemory, r => !r.Contains("NULL", StringComparison.Ordinal));
            Same(inMemory, spilled);
            using var restoredMemory = new StateMemory(new StateOptions { Shards = 2, MemoryBytes = 6 * 1024, SpillDirectory = _spill });
            var restored = Drive(kind, steps, memory.Options, null, cut: steps.Count / 2, restore: restoredMemory, apart: seed % 2 == 0);
            Same(inMemory, restored);
        }
    }

    /// <summary>
    /// One window with far more rows on each side than the budget: when it closes, its rows are split by another hash of
    /// the key into parts each joined alone, so what the join holds stays within the budget, and the rows are the same.
    /// </summary>
    [Theory]
    [InlineData("Inner")]
    [InlineData("Full")]
    public void A_spilled_window_larger_than_the_budget_closes_in_parts_within_it(string kindName)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        var steps = Steps(new Random(3), windows: 1, advance: 80);
        var inMemory = Drive(kind, steps, new StateOptions());
        var options = new StateOptions { Shards = 1, MemoryBytes = 8 * 1024, SpillDirectory = _spill };
        using var memory = new StateMemory(options);
        var spilled = Drive(kind, steps, options, memory);
        Assert.True(memory.BytesSpilled > 8 * options.MemoryBytes, $"{memory.BytesSpilled} bytes spilled");
        Assert.True(memory.PeakHeld < 2 * options.MemoryBytes, $"{memory.PeakHeld} bytes held at most");
        Same(inMemory, spilled);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    private static readonly SqlType[] SideTypes = [SqlType.Timestamp, SqlType.Varchar, SqlType.Integer];

    private sealed record Step(int Side, long Window, List<(string? Key, int Value)> Rows, long Watermark);

    /// <summary>Batches of rows for <paramref name="windows"/> windows ending at 10, 20, ... on either side, each side's
    /// rows of a window only while its watermark is before the window's end; one step in <paramref name="advance"/>
    /// (of 10 times that many) moves a side's watermark to the next end instead.</summary>
    private static List<Step> Steps(Random random, int windows = 6, int advance = 12)
    {
        var steps = new List<Step>();
        long[] watermarks = [0, 0];
        for (int i = 0; i < 10 * advance; i++)
        {
            int side = random.Next(2);
            if (random.Next(advance) == 0 && watermarks[side] < windows * 10)
            {
                watermarks[side] += 10;
                steps.Add(new Step(side, 0, [], watermarks[side]));
                continue;
            }
            var open = Enumerable.Range(1, windows).Select(w => w * 10L).Where(w => w > watermarks[side]).ToList();
            if (open.Count == 0) continue;
            long window = open[random.Next(Math.Min(3, open.Count))];
            var rows = Enumerable.Range(0, random.Next(1, 40))
                .Select(_ => (random.Next(30) == 0 ? null : "k" + random.Next(120), random.Next(100))).ToList();
            steps.Add(new Step(side, window, rows, long.MinValue));
        }
        return steps;
    }

    /// <summary>Feeds the steps to a window join (on window end and key) of <paramref name="kind"/>; at <paramref name="cut"/>,
    /// snapshots it and goes on in a new one restored from it with <paramref name="restore"/>'s shards.</summary>
    private static List<string> Drive(JoinKind kind, List<Step> steps, StateOptions options, StateMemory? memory = null, int cut = -1,
        StateMemory? restore = null, bool apart = false)
    {
        var left = new Schema([ArrowTypes.Field("we", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.Varchar, true), ArrowTypes.Field("v", SqlType.Integer, true)], null);
        var right = new Schema([ArrowTypes.Field("we", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.Varchar, true), ArrowTypes.Field("w", SqlType.Integer, true)], null);
        var output = new Schema(left.FieldsList.Concat(right.FieldsList).Select(f => ArrowTypes.Field(f.Name, ArrowTypes.FromArrow(f, out _)!, true)), null);
        BoundExpression[] Keys() => [new BoundExpression.Column(0, "we", SqlType.Timestamp, false), new BoundExpression.Column(1, "k", SqlType.Varchar, true)];
        var spec = new JoinSpec(kind, Keys(), Keys(), null, new JoinTime(JoinTimeKind.Window, 0, 0, -1, -1));
        var rows = new List<string>();
        var sink = new Collect(rows, [.. SideTypes, .. SideTypes]);
        JoinOperator Join(StateMemory state) =>
            new(spec, left, right, SideTypes, SideTypes, output, new RowErrorLog(), () => 0, state) { Next = sink };
        var owned = memory is null ? new StateMemory(options) : null;
        var join = Join(memory ?? owned!);
        for (int i = 0; i < steps.Count; i++)
        {
            if (i == cut)
            {
                var main = new MemoryStream();
                var shards = new List<MemoryStream>();
                using (var writer = new BinaryWriter(main, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    if (!apart) join.WriteState(writer);
                    else
                    {
                        join.WriteStateApart(writer);
                        for (int s = 0; s < Math.Max(1, options.Shards); s++)
                        {
                            shards.Add(new MemoryStream());
                            using var shardWriter = new BinaryWriter(shards[s], System.Text.Encoding.UTF8, leaveOpen: true);
                            join.WriteShard(shardWriter, s);
                        }
                    }
                }
                join = Join(restore!);
                main.Position = 0;
                using (var reader = new BinaryReader(main)) join.ReadState(reader);
                for (int s = shards.Count - 1; s >= 0; s--)
                {
                    shards[s].Position = 0;
                    using var reader = new BinaryReader(shards[s]);
                    join.ReadShard(reader, s, shards.Count);
                }
            }
            var step = steps[i];
            var arm = join.Input(step.Side);
            if (step.Rows.Count == 0) { arm.Watermark(step.Watermark); continue; }
            var schema = step.Side == 0 ? left : right;
            arm.Push(new RecordBatch(schema, [
                ValueArrays.FromValues(SqlType.Timestamp, step.Rows.Select(_ => (object?)step.Window).ToList()),
                ValueArrays.FromValues(SqlType.Varchar, step.Rows.Select(r => (object?)r.Key).ToList()),
                ValueArrays.FromValues(SqlType.Integer, step.Rows.Select(r => (object?)r.Value).ToList())], step.Rows.Count));
        }
        join.Input(0).Finish();
        join.Input(1).Finish();
        owned?.Dispose();
        return rows;
    }

    private sealed class Collect(List<string> rows, IReadOnlyList<SqlType> types) : Operator
    {
        public override void Push(RecordBatch batch) => rows.AddRange(RowText.Rows([batch], types));

        public override void Finish() { }

        public override void Watermark(long micros) { }
    }

    private static void Same(IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var a = expected.Order(StringComparer.Ordinal).ToList();
        var b = actual.Order(StringComparer.Ordinal).ToList();
        Assert.True(a.Count == b.Count && a.Zip(b).All(p => CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)),
            $"{a.Count} rows expected, {b.Count} here; only expected: {string.Join("; ", a.Except(b).Take(3))}; only here: {string.Join("; ", b.Except(a).Take(3))}");
    }

    /// <summary>
    /// Two streams of 6000 records, 100 a second over 800 keys (and a few NULL), jittered back by less than their
    /// watermark's delay (none late), in batches of up to 50 interleaved at random.
    /// </summary>
    private static (List<object?[]> Left, List<object?[]> Right, List<(string Source, List<object?[]> Rows)> Batches) Streams(Random random)
    {
        List<object?[]> Records()
        {
            var records = new List<object?[]>();
            for (int i = 0; i < 6000; i++)
            {
                long ts = Start + i * Second / 100 - random.Next(0, 4000) * 1000L;
                string? key = random.Next(100) == 0 ? null : "key-" + random.Next(800);
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
