using Apache.Arrow;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Runs every stateful case (Stateful/cases/*.sqltest) the ways Arroyo's smoke tests do: uninterrupted; with its state
/// saved (checkpointed) at three points of one run that then goes on to its stop, which must not disturb it; restored
/// from the third of those checkpoints by a new execution with another shard count (3 shards to 1, and 1 to 4); and for
/// every point between two steps, stopped there with its state saved and continued by a new execution restored from it.
/// The checkpointed run also spills its windows' state to disk at every step, which checkpoints must read back whole.
/// Every run must give the golden rows, emitted at the same points (spilled, an interval join's pairs with a row on
/// disk at the same point or later: when the row's time bucket closes), and drop the same records.
/// </summary>
public sealed class StatefulCorpusTests
{
    public static IEnumerable<object[]> Cases() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Stateful"), "*.sqltest", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetRelativePath(AppContext.BaseDirectory, f) });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case(string file)
    {
        var s = StreamCase.Load(Path.Combine(AppContext.BaseDirectory, file));
        var c = s.Case;
        if (c.Error is not null)
        {
            var e = Assert.Throws<SqlException>(() => SqlProgram.Compile(c.Query, s.Sources(), c.Mode, lookups: s.Lookups()));
            Assert.Contains(c.Error, e.Message);
            return;
        }
        Assert.NotNull(c.Output);
        var expected = Sorted(c.Output!, c.Ordered);
        var expectedDropped = c.Dropped.Select(d => d.Trim()).Order(StringComparer.Ordinal).ToList();
        // spilled, a session's parts meet in another order than in memory: a merged double may differ in its last digit
        void Check(string way, (List<string> Rows, List<string> Dropped) run, bool rounding = false, bool later = false)
        {
            var rows = Sorted(run.Rows, c.Ordered);
            if (later && !c.Ordered)
            {
                // the same rows, each emitted where it is in memory or later
                var mine = Points(rows);
                var theirs = Points(expected);
                Assert.True(mine.Count == theirs.Count && mine.Zip(theirs).All(p => p.First.Row == p.Second.Row && p.First.At >= p.Second.At),
                    $"{way}:\n  {string.Join("\n  ", rows)}\nexpected (or later):\n  {string.Join("\n  ", expected)}");
                Assert.Equal(expectedDropped, run.Dropped);
                return;
            }
            Assert.True(rounding ? expected.Count == rows.Count && expected.Zip(rows).All(p => Differential.CorpusAgainstDuckDbTests.RowsMatch(p.First, p.Second)) : expected.SequenceEqual(rows),
                $"{way}:\n  {string.Join("\n  ", Sorted(run.Rows, c.Ordered))}\nexpected:\n  {string.Join("\n  ", expected)}");
            Assert.Equal(expectedDropped, run.Dropped);
        }

        Check("uninterrupted", Run(s, new RunPlan()));
        var points = CheckpointPoints(s.Steps.Count);
        string at = string.Join(", ", points);
        // spilled, an interval join's pairs with a row on disk come out when its time bucket closes, later than in memory
        Check($"checkpointed after steps {at} (3 shards, spilling every step) and stopped", Run(s, new RunPlan(Shards: 3, Checkpoints: points, Spill: true)), rounding: true,
            later: SqlProgram.Compile(c.Query, s.Sources(), c.Mode, lookups: s.Lookups()).Statements.Any(t => IntervalJoin(t.Plan)));
        Check($"checkpointed after steps {at} (3 shards), restored from the last with 1 shard",
            Run(s, new RunPlan(Shards: 3, Checkpoints: points, RestoreShards: 1)));
        Check($"checkpointed after steps {at} (1 shard), restored from the last with 4 shards",
            Run(s, new RunPlan(Shards: 1, Checkpoints: points, RestoreShards: 4)));
        for (int cut = 1; cut < s.Steps.Count; cut++)
            Check($"restored after step {cut}", Run(s, new RunPlan(Checkpoints: [cut], RestoreShards: 1)));
    }

    /// <summary>
    /// Three points (a point is the number of steps pushed before it) at which to checkpoint a run of
    /// <paramref name="steps"/> steps: spread over the points between two steps where there are three or more. With fewer
    /// steps, the point before the first step (an empty state) and then the one after the last step (before the stop)
    /// make up the three, and a one-step case checkpoints twice in a row after its step; the points are in order, so the
    /// restore from the third still has input to read whenever a point between steps exists.
    /// </summary>
    internal static int[] CheckpointPoints(int steps)
    {
        if (steps >= 4) return [steps / 4, steps * 2 / 4, steps * 3 / 4];
        var points = Enumerable.Range(1, Math.Max(0, steps - 1)).Prepend(0).Append(steps).Distinct().Take(3).ToList();
        while (points.Count < 3) points.Add(points[^1]);
        return [.. points.Order()];
    }

    /// <summary>Rows without their emission point ("@3 " or "@end "), with it (the end last), sorted by row then point.</summary>
    private static List<(string Row, int At)> Points(IEnumerable<string> rows) =>
        rows.Select(r => r.Split(' ', 2)).Select(p => (p[1], p[0] == "@end" ? int.MaxValue : int.Parse(p[0][1..], System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2).ToList();

    private static bool IntervalJoin(LogicalPlan plan) =>
        plan is LogicalPlan.Join { Spec.Time.Kind: JoinTimeKind.Interval }
        || plan.GetType().GetProperties().Any(p => p.GetValue(plan) is LogicalPlan child && IntervalJoin(child));

    private static List<string> Sorted(IEnumerable<string> rows, bool ordered) =>
        ordered ? rows.ToList() : rows.Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// How to run a case: its keyed state in <paramref name="Shards"/> shards, saved after the steps of each of
    /// <paramref name="Checkpoints"/>; with <paramref name="RestoreShards"/>, a new execution of that many shards restored
    /// from the last checkpoint continues the run. <paramref name="Spill"/>: a state budget of one byte, so windowed state
    /// goes to disk at every step and each checkpoint and window close reads it back merged.
    /// </summary>
    internal sealed record RunPlan(int Shards = 1, int[]? Checkpoints = null, int? RestoreShards = null, bool Spill = false);

    /// <summary>Runs the steps as <paramref name="plan"/> says, and gives the rows of the last statement and the records dropped per reason.</summary>
    internal static (List<string> Rows, List<string> Dropped) Run(StreamCase s, RunPlan plan)
    {
        var c = s.Case;
        var program = SqlProgram.Compile(c.Query, s.Sources(), c.Mode, lookups: s.Lookups());
        var types = program.Statements[^1].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        int batches = 0;
        bool finished = false;
        long now = StreamCase.Start;
        void Output(int statement, RecordBatch batch)
        {
            if (statement != program.Statements.Count - 1) return;
            string at = finished ? "@end" : "@" + batches; // emitted while pushing the Nth batch (or a tick or commit after it)
            rows.AddRange(RowText.Rows([batch], types).Select(r => at + " " + r));
        }
        // a lookup table is not part of the saved state: the restored execution reads the same table
        var tables = s.LookupTables.ToDictionary(t => t.Key, t => (c with { Schema = t.Value, Input = [] }).InputBatch());
        var execution = program.Start(Output, () => now, new StateOptions { Shards = plan.Shards, MemoryBytes = plan.Spill ? 1 : long.MaxValue }, name => tables[name]);
        var counts = new Dictionary<string, long>();
        var checkpoints = plan.Checkpoints ?? [];
        int taken = 0;
        void Checkpoint(int point)
        {
            for (; taken < checkpoints.Length && checkpoints[taken] == point; taken++)
            {
                var state = new MemoryStream();
                execution.SaveState(state);
                if (taken < checkpoints.Length - 1 || plan.RestoreShards is not { } shards) continue;
                Add(counts, execution.Errors);
                execution.Dispose();
                program = SqlProgram.Compile(c.Query, s.Sources(), c.Mode, lookups: s.Lookups());
                execution = program.Start(Output, () => now, new StateOptions { Shards = shards }, name => tables[name]);
                state.Position = 0;
                execution.RestoreState(state);
            }
        }
        for (int step = 0; step < s.Steps.Count; step++)
        {
            Checkpoint(step);
            switch (s.Steps[step])
            {
                case StreamStep.Batch b:
                    batches++;
                    execution.Push(b.Source, b.Records.InputBatch(), b.Partition);
                    break;
                case StreamStep.Clock k: now = k.Micros; break;
                case StreamStep.Tick: execution.AdvanceTime(); break;
                case StreamStep.Table t: tables[t.Name] = t.Rows.InputBatch(); break;
                case StreamStep.Commit: execution.Flush(); break;
            }
        }
        Checkpoint(s.Steps.Count);
        Assert.Equal(checkpoints.Length, taken);
        finished = true;
        execution.Finish();
        Add(counts, execution.Errors);
        execution.Dispose();
        return (rows, counts.Select(x => $"{x.Key}={x.Value}").Order(StringComparer.Ordinal).ToList());
    }

    private static void Add(Dictionary<string, long> counts, Execution.RowErrorLog log)
    {
        foreach (var e in log.Snapshot()) counts[e.Reason.Code] = counts.GetValueOrDefault(e.Reason.Code) + e.Count;
    }
}
