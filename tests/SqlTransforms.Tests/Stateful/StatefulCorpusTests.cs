using Apache.Arrow;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// Runs every stateful case (Stateful/cases/*.sqltest) the ways Arroyo's smoke tests do: uninterrupted, and for
/// every point between two steps, stopped there with its state saved and continued by a new execution restored
/// from it. Every run must give the golden rows, emitted at the same points, and drop the same records.
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

        var (rows, dropped) = Run(s, cut: null);
        Assert.True(expected.SequenceEqual(Sorted(rows, c.Ordered)),
            $"uninterrupted:\n  {string.Join("\n  ", Sorted(rows, c.Ordered))}\nexpected:\n  {string.Join("\n  ", expected)}");
        Assert.Equal(expectedDropped, dropped);
        for (int cut = 1; cut < s.Steps.Count; cut++)
        {
            var (restored, restoredDropped) = Run(s, cut);
            Assert.True(expected.SequenceEqual(Sorted(restored, c.Ordered)),
                $"restored after step {cut}:\n  {string.Join("\n  ", Sorted(restored, c.Ordered))}\nexpected:\n  {string.Join("\n  ", expected)}");
            Assert.Equal(expectedDropped, restoredDropped);
        }
    }

    private static List<string> Sorted(IEnumerable<string> rows, bool ordered) =>
        ordered ? rows.ToList() : rows.Order(StringComparer.Ordinal).ToList();

    /// <summary>Runs the steps; with <paramref name="cut"/>, saves the state after that many steps and continues in a new execution restored from it.</summary>
    internal static (List<string> Rows, List<string> Dropped) Run(StreamCase s, int? cut)
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
        var execution = program.Start(Output, () => now, lookupRows: name => tables[name]);
        var counts = new Dictionary<string, long>();
        for (int step = 0; step < s.Steps.Count; step++)
        {
            if (step == cut)
            {
                Add(counts, execution.Errors);
                var state = new MemoryStream();
                execution.SaveState(state);
                program = SqlProgram.Compile(c.Query, s.Sources(), c.Mode, lookups: s.Lookups());
                execution = program.Start(Output, () => now, lookupRows: name => tables[name]);
                state.Position = 0;
                execution.RestoreState(state);
            }
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
        finished = true;
        execution.Finish();
        Add(counts, execution.Errors);
        return (rows, counts.Select(x => $"{x.Key}={x.Value}").Order(StringComparer.Ordinal).ToList());
    }

    private static void Add(Dictionary<string, long> counts, Execution.RowErrorLog log)
    {
        foreach (var e in log.Snapshot()) counts[e.Reason.Code] = counts.GetValueOrDefault(e.Reason.Code) + e.Count;
    }
}
