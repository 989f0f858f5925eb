using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// The interval join operator alone, fed rows of both sides out of order and behind their own side's watermark (which
/// a source drops before a join, but a join fed by other operators may get), with watermarks moving at random: with a
/// budget of a few KiB it spills, and pairs exactly as the run all in memory does, including not pairing a late row with
/// a spilled row that had gone out of its reach before it came; also through a snapshot restored with another shard count.
/// </summary>
public sealed class IntervalJoinOperatorSpillTests : IDisposable
{
    private const long Second = 1_000_000;

    private static readonly Schema Side = new([ArrowTypes.Field("ts", SqlType.Timestamp, false), ArrowTypes.Field("k", SqlType.Varchar, true),
        ArrowTypes.Field("v", SqlType.Integer, true)], null);

    private static readonly SqlType[] SideTypes = [SqlType.Timestamp, SqlType.Varchar, SqlType.Integer];

    private readonly string _spill = Directory.CreateTempSubdirectory("dataplane-interval-operator-test-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    [Theory]
    [InlineData("Inner")]
    [InlineData("Left")]
    [InlineData("Right")]
    [InlineData("Full")]
    public void Rows_behind_their_watermark_pair_with_spilled_rows_as_in_memory(string kindName)
    {
        var kind = Enum.Parse<JoinKind>(kindName);
        var spec = Spec(kindName.ToUpperInvariant());
        Assert.Equal(kind, spec.Kind);
        for (int seed = 0; seed < 3; seed++)
        {
            var steps = Steps(new Random(seed));
            var inMemory = Drive(spec, steps, new StateOptions());
            using var memory = new StateMemory(new StateOptions { Shards = 3, MemoryBytes = 4 * 1024, SpillDirectory = _spill });
            var spilled = Drive(spec, steps, memory.Options, memory);
            Assert.True(memory.RunsSpilled > 5, $"seed {seed}: {memory.RunsSpilled} runs spilled");
            Assert.Contains(inMemory, r => !r.Contains("NULL", StringComparison.Ordinal));
            Same(inMemory, spilled, seed);
            using var restoredMemory = new StateMemory(new StateOptions { Shards = 2, MemoryBytes = 4 * 1024, SpillDirectory = _spill });
            var restored = Drive(spec, steps, memory.Options, null, cut: steps.Count / 2, restore: restoredMemory);
            Same(inMemory, restored, seed);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_spill));
    }

    /// <summary>
    /// A snapshot of an interval join from before rows carried their arrivals (each side's rows in the plain
    /// <see cref="RowRun.Layout"/>; none spilled then), restored into a join that spills: its rows are taken as come
    /// before any to come, and the run continues to the rows of the uninterrupted one.
    /// </summary>
    [Theory]
    [InlineData("Left")]
    [InlineData("Full")]
    public void A_snapshot_from_before_arrivals_restores_into_a_spilling_join(string kindName)
    {
        var spec = Spec(kindName.ToUpperInvariant());
        var steps = Steps(new Random(41));
        var inMemory = Drive(spec, steps, new StateOptions());
        using var restoredMemory = new StateMemory(new StateOptions { Shards = 2, MemoryBytes = 4 * 1024, SpillDirectory = _spill });
        var restored = Drive(spec, steps, new StateOptions { Shards = 3 }, null, cut: steps.Count / 2, restore: restoredMemory, older: true);
        Assert.True(restoredMemory.RunsSpilled > 5, $"{restoredMemory.RunsSpilled} runs spilled");
        Same(inMemory, restored, 41);
    }

    /// <summary>A snapshot (<see cref="JoinOperator.WriteState"/>, nothing spilled) rewritten with each side's rows in the plain layout, without their arrivals.</summary>
    private static MemoryStream Older(MemoryStream snapshot)
    {
        snapshot.Position = 0;
        var older = new MemoryStream();
        using var reader = new BinaryReader(snapshot, System.Text.Encoding.UTF8, leaveOpen: true);
        using var writer = new BinaryWriter(older, System.Text.Encoding.UTF8, leaveOpen: true);
        for (int i = 0; i < 3; i++) writer.Write(reader.ReadInt64());
        writer.Write(reader.ReadInt32()); // the sharded layout
        int shards = reader.ReadInt32();
        writer.Write(shards);
        for (int s = 0; s < shards; s++)
        {
            for (int side = 0; side < 2; side++)
            {
                while (reader.ReadBoolean())
                {
                    var batch = RowRun.Load(reader, RowRun.TimedLayout(Side));
                    var columns = Enumerable.Range(0, batch.ColumnCount).Where(c => c < 3 || c >= 6).Select(batch.Column).ToArray();
                    writer.Write(true);
                    RowRun.Save(writer, new RecordBatch(RowRun.Layout(Side), columns, batch.Length));
                }
                writer.Write(false);
            }
            int windows = reader.ReadInt32();
            Assert.Equal(0, windows);
            writer.Write(windows);
        }
        older.Position = 0;
        return older;
    }

    /// <summary>The join of an interval join statement as the planner makes it (keys, the time bounds as the residual).</summary>
    private static JoinSpec Spec(string kind)
    {
        var program = SqlProgram.Compile("WATERMARK FOR l.ts AS ts; WATERMARK FOR r.ts AS ts;\nINSERT INTO out SELECT a.ts, a.k, a.v, b.ts AS b_ts, b.k AS b_k, b.v AS w "
            + $"FROM l a {kind} JOIN r b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '2' SECOND AND b.ts + INTERVAL '1' SECOND",
            new Dictionary<string, Schema> { ["l"] = Side, ["r"] = Side }, SqlMode.Streaming);
        var join = Find(program.Statements[0].Plan) ?? throw new InvalidOperationException("no join in the plan");
        Assert.Equal(3, join.Left.Columns.Count);
        Assert.Equal(JoinTimeKind.Interval, join.Spec.Time!.Kind);
        return join.Spec;
    }

    private static LogicalPlan.Join? Find(LogicalPlan plan)
    {
        if (plan is LogicalPlan.Join join) return join;
        foreach (var property in plan.GetType().GetProperties())
            if (property.GetValue(plan) is LogicalPlan child && Find(child) is { } found) return found;
        return null;
    }

    private sealed record Step(int Side, List<(long Ts, string? Key, int Value)> Rows, long Watermark);

    /// <summary>Batches of up to 20 rows of either side, times up to 6 s behind the side's clock (which moves up to 0.3 s a
    /// batch): many behind the side's own watermark, which one step in eight moves to up to 3 s behind the clock.</summary>
    private static List<Step> Steps(Random random)
    {
        var steps = new List<Step>();
        long[] clocks = [10 * Second, 10 * Second];
        long[] watermarks = [long.MinValue, long.MinValue];
        for (int i = 0; i < 400; i++)
        {
            int side = random.Next(2);
            if (random.Next(8) == 0)
            {
                long watermark = clocks[side] - random.Next(0, 3000) * 1000L;
                if (watermark <= watermarks[side]) continue;
                watermarks[side] = watermark;
                steps.Add(new Step(side, [], watermark));
                continue;
            }
            clocks[side] += random.Next(0, 300) * 1000L;
            var rows = Enumerable.Range(0, random.Next(1, 21))
                .Select(_ => (clocks[side] - random.Next(0, 6000) * 1000L, random.Next(30) == 0 ? null : "k" + random.Next(30), random.Next(100))).ToList();
            steps.Add(new Step(side, rows, long.MinValue));
        }
        return steps;
    }

    /// <summary>Feeds the steps to the join; at <paramref name="cut"/>, snapshots it (shards apart) and goes on in a new one
    /// restored from it with <paramref name="restore"/>'s shards.</summary>
    private static List<string> Drive(JoinSpec spec, List<Step> steps, StateOptions options, StateMemory? memory = null, int cut = -1, StateMemory? restore = null,
        bool older = false)
    {
        var output = new Schema(Side.FieldsList.Concat(Side.FieldsList).Select(f => ArrowTypes.Field(f.Name, ArrowTypes.FromArrow(f, out _)!, true)), null);
        var rows = new List<string>();
        var sink = new Collect(rows, [.. SideTypes, .. SideTypes]);
        JoinOperator Join(StateMemory state) => new(spec, Side, Side, SideTypes, SideTypes, output, new RowErrorLog(), () => 0, state) { Next = sink };
        var owned = memory is null ? new StateMemory(options) : null;
        var join = Join(memory ?? owned!);
        for (int i = 0; i < steps.Count; i++)
        {
            if (i == cut && older)
            {
                var whole = new MemoryStream();
                using (var writer = new BinaryWriter(whole, System.Text.Encoding.UTF8, leaveOpen: true)) join.WriteState(writer);
                join = Join(restore!);
                using (var reader = new BinaryReader(Older(whole))) join.ReadState(reader);
            }
            else if (i == cut)
            {
                var main = new MemoryStream();
                var shards = new List<MemoryStream>();
                using (var writer = new BinaryWriter(main, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    join.WriteStateApart(writer);
                    for (int s = 0; s < Math.Max(1, options.Shards); s++)
                    {
                        shards.Add(new MemoryStream());
                        using var shardWriter = new BinaryWriter(shards[s], System.Text.Encoding.UTF8, leaveOpen: true);
                        join.WriteShard(shardWriter, s);
                    }
                }
                join = Join(restore!);
                main.Position = 0;
                using (var reader = new BinaryReader(main)) join.ReadState(reader);
                for (int s = 0; s < shards.Count; s++)
                {
                    shards[s].Position = 0;
                    using var reader = new BinaryReader(shards[s]);
                    join.ReadShard(reader, s, shards.Count);
                }
            }
            var step = steps[i];
            var arm = join.Input(step.Side);
            if (step.Rows.Count == 0) { arm.Watermark(step.Watermark); continue; }
            arm.Push(new RecordBatch(Side, [
                ValueArrays.FromValues(SqlType.Timestamp, step.Rows.Select(r => (object?)r.Ts).ToList()),
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

    private static void Same(IEnumerable<string> expected, IEnumerable<string> actual, int seed)
    {
        var a = expected.Order(StringComparer.Ordinal).ToList();
        var b = actual.Order(StringComparer.Ordinal).ToList();
        Assert.True(a.SequenceEqual(b),
            $"seed {seed}: {a.Count} rows expected, {b.Count} here; only expected: {string.Join("; ", a.Except(b).Take(3))}; only here: {string.Join("; ", b.Except(a).Take(3))}");
    }
}
