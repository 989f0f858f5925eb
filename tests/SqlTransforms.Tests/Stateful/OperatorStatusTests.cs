using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>
/// The stateful operators of a statement, before it runs (their plan nodes and keys, as the validate call and EXPLAIN
/// show them) and while it runs (records in and out, the watermark, late records): what a pipeline's status reads.
/// </summary>
public sealed class OperatorStatusTests
{
    private static Schema Side(string value) => new([
        ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true), ArrowTypes.Field(value, SqlType.BigInt, true)], null);

    private static readonly Dictionary<string, Schema> Sources = new() { ["a"] = Side("v"), ["b"] = Side("w") };

    private const long T0 = 1_704_067_200_000_000L; // 2024-01-01 00:00:00 in microseconds

    private const string IntervalJoin = "WATERMARK FOR a.ts AS ts; WATERMARK FOR b.ts AS ts;\n"
        + "INSERT INTO out SELECT a.k, a.v, b.w FROM a JOIN b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '10' SECOND AND b.ts";

    private static RecordBatch Batch(string source, params (double Seconds, string Key, long Value)[] rows) => new(Sources[source], [
        ValueArrays.FromValues(SqlType.Timestamp, rows.Select(r => (object?)(T0 + (long)(r.Seconds * 1_000_000))).ToList()),
        ValueArrays.FromValues(SqlType.Varchar, rows.Select(r => (object?)r.Key).ToList()),
        ValueArrays.FromValues(SqlType.BigInt, rows.Select(r => (object?)r.Value).ToList())], rows.Length);

    [Fact]
    public void Each_stateful_operator_is_listed_with_its_plan_node_and_the_keys_its_state_is_kept_per()
    {
        var join = SqlProgram.Compile(IntervalJoin, Sources, SqlMode.Streaming).Statements[0];
        var op = Assert.Single(join.StatefulOperators());
        Assert.Equal("Join", op.Operator);
        Assert.Equal(["k = k"], op.Keys);
        Assert.Contains("interval join", op.Detail);
        Assert.Equal("Join", join.Graph().Nodes[op.Node].Operator);

        // A window join of two keyed windows: three stateful operators, the join first, then each side's window, in the graph's order.
        var windows = SqlProgram.Compile("WATERMARK FOR a.ts AS ts; WATERMARK FOR b.ts AS ts;\nINSERT INTO out SELECT x.k, x.n, y.m FROM "
            + "(SELECT window_start, window_end, k, count(*) AS n FROM a GROUP BY tumble(INTERVAL '10' SECOND), k) x JOIN "
            + "(SELECT window_start, window_end, k, sum(w) AS m FROM b GROUP BY tumble(INTERVAL '10' SECOND), k) y ON x.window_end = y.window_end AND x.k = y.k",
            Sources, SqlMode.Streaming).Statements[0];
        var three = windows.StatefulOperators();
        Assert.Equal(["Join", "WindowAggregate", "WindowAggregate"], three.Select(o => o.Operator));
        Assert.All(three, o => Assert.Equal(o.Operator, windows.Graph().Nodes[o.Node].Operator));
        Assert.Contains("window join", three[0].Detail);
        Assert.Equal(["k"], three[1].Keys);
        Assert.StartsWith("tumble(10s)", three[2].Detail, StringComparison.Ordinal);

        // Top-N per window and key: its keys are the partition's; without keys, one group per window.
        var topN = SqlProgram.Compile("WATERMARK FOR ts AS ts;\nINSERT INTO out SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '1 minute'), k ORDER BY v DESC) AS rn FROM a) WHERE rn <= 3",
            new Dictionary<string, Schema> { ["a"] = Sources["a"] }, SqlMode.Streaming).Statements[0];
        Assert.Equal("WindowTopN", topN.StatefulOperators()[0].Operator);
        Assert.Equal(["k"], topN.StatefulOperators()[0].Keys);
        var global = SqlProgram.Compile("WATERMARK FOR ts AS ts;\nINSERT INTO out SELECT window_start, count(*) AS n FROM a GROUP BY tumble(INTERVAL '1 minute')",
            new Dictionary<string, Schema> { ["a"] = Sources["a"] }, SqlMode.Streaming).Statements[0];
        Assert.Empty(global.StatefulOperators()[0].Keys);
        Assert.Empty(SqlProgram.Compile("INSERT INTO out SELECT k FROM a WHERE v > 1", Sources, SqlMode.Streaming).Statements[0].StatefulOperators());
    }

    [Fact]
    public void A_running_join_counts_both_inputs_records_its_output_the_least_watermark_and_the_late_records_of_either_stream()
    {
        var program = SqlProgram.Compile(IntervalJoin, Sources, SqlMode.Streaming);
        long rows = 0;
        var execution = program.Start((_, batch) => rows += batch.Length);
        SqlOperatorStatus Join() => Assert.Single(execution.StatefulOperators);

        execution.Push("a", Batch("a", (1, "x", 1), (2, "y", 2), (3, "x", 3)));
        Assert.Equal((3, 0), (Join().RecordsIn, Join().RecordsOut));
        Assert.Null(Join().Watermark); // b has none yet
        execution.Push("b", Batch("b", (5, "x", 10), (6, "z", 20)));
        Assert.Equal((5, 2, 2), (Join().RecordsIn, Join().RecordsOut, rows)); // x at 1 s and 3 s match x at 5 s
        Assert.Equal(T0 + 3_000_000, Join().Watermark); // a's, the lesser
        Assert.Equal(0, Join().LateRecords);

        // Behind a's watermark (3 s): dropped on arrival, never reaching the join, and counted as its late record.
        execution.Push("a", Batch("a", (0.5, "x", 9), (4, "x", 4)));
        Assert.Equal((6, 3, 1), (Join().RecordsIn, Join().RecordsOut, Join().LateRecords));
        Assert.Null(Join().StateBytes); // no snapshot yet
        execution.SaveState(new MemoryStream());
        Assert.True(Join().StateBytes > 0);
    }
}
