using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>The watermark a join passes on to what follows it: an interval join's held back by its bound.</summary>
public sealed class JoinWatermarkTests
{
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true)], null);
    private static readonly Dictionary<string, Schema> Sources = new() { ["l"] = Events, ["r"] = Events };

    private static RecordBatch Batch(params (int Seconds, string K)[] rows) => new(Events,
        [ValueArrays.FromValues(SqlType.Timestamp, rows.Select(r => (object?)(1_704_067_200_000_000L + r.Seconds * 1_000_000L)).ToList()),
         ValueArrays.FromValues(SqlType.Varchar, rows.Select(r => (object?)r.K).ToList())], rows.Length);

    [Fact]
    public void An_interval_joins_results_are_not_late_for_a_window_downstream()
    {
        // l.ts up to 10 s before r.ts: a pair made when its r row arrives carries an l time up to 10 s behind r's watermark.
        var program = SqlProgram.Compile("""
            WATERMARK FOR l.ts AS ts; WATERMARK FOR r.ts AS ts;
            INSERT INTO out SELECT window_start, count(*) AS n FROM (SELECT l.ts AS ts FROM l JOIN r ON l.k = r.k AND l.ts BETWEEN r.ts - INTERVAL '10' SECOND AND r.ts)
            GROUP BY tumble(INTERVAL '5' SECOND)
            """, Sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start((_, b) => rows.AddRange(RowText.Rows([b], types)), () => 0);
        execution.Push("l", Batch((1, "a")));
        execution.Push("l", Batch((9, "x")));
        execution.Push("r", Batch((7, "y"))); // both watermarks past 00:00:05, the end of the window of 00:00:01
        execution.Push("r", Batch((8, "a"))); // on time; matches l at 00:00:01
        execution.Push("l", Batch((60, "z")));
        execution.Push("r", Batch((60, "z"))); // closes every window of the pairs before
        Assert.Equal(["2024-01-01 00:00:00 | 1"], rows);
        Assert.Equal(0, execution.Errors.Total);
    }
}
