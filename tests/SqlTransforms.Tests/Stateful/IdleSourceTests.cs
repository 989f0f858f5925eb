using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>Idle timeouts: a quiet stream stops holding a join back, and a restored execution starts its partitions' timeouts again.</summary>
public sealed class IdleSourceTests
{
    private const long Second = 1_000_000;
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true)], null);
    private static readonly Dictionary<string, Schema> Sources = new() { ["l"] = Events, ["r"] = Events };

    private static RecordBatch Batch(params (int Seconds, string K)[] rows) => new(Events,
        [ValueArrays.FromValues(SqlType.Timestamp, rows.Select(r => (object?)(1_704_067_200_000_000L + r.Seconds * Second)).ToList()),
         ValueArrays.FromValues(SqlType.Varchar, rows.Select(r => (object?)r.K).ToList())], rows.Length);

    private static (SqlExecution Execution, List<string> Rows) Start(SqlProgram program, Func<long> clock)
    {
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        return (program.Start((_, b) => rows.AddRange(RowText.Rows([b], types)), clock), rows);
    }

    [Fact]
    public void A_stream_idle_past_its_timeout_stops_holding_back_a_window_join_and_its_later_records_are_late()
    {
        var program = SqlProgram.Compile("""
            WATERMARK FOR l.ts AS ts IDLE TIMEOUT INTERVAL '30' SECOND; WATERMARK FOR r.ts AS ts IDLE TIMEOUT INTERVAL '30' SECOND;
            INSERT INTO out SELECT a.window_start, a.k, a.n, b.m
            FROM (SELECT window_start, window_end, k, count(*) AS n FROM l GROUP BY tumble(INTERVAL '10' SECOND), k) a
            LEFT JOIN (SELECT window_start, window_end, k, count(*) AS m FROM r GROUP BY tumble(INTERVAL '10' SECOND), k) b
            ON a.window_end = b.window_end AND a.k = b.k
            """, Sources, SqlMode.Streaming);
        long now = 0;
        var (execution, rows) = Start(program, () => now);
        execution.Push("r", Batch((1, "a")));
        execution.Push("l", Batch((2, "a"), (15, "a")));
        now = 29 * Second;
        execution.AdvanceTime();
        execution.Push("l", Batch((25, "a")));
        Assert.Empty(rows); // r is behind at 00:00:01 and not idle yet: nothing of l's closed windows can be emitted

        now = 31 * Second;
        execution.Push("l", Batch((26, "a"))); // r has been quiet for 31 s: it follows l's watermark, 00:00:26
        Assert.Equal(["2024-01-01 00:00:00 | a | 1 | 1", "2024-01-01 00:00:10 | a | 1 | NULL"], rows);

        execution.Push("r", Batch((5, "a"), (27, "a"))); // back: 00:00:05 is behind the watermark it followed
        Assert.Equal(1, execution.Errors.Snapshot().Single(e => e.Reason.Code == "late").Count);
        now = 32 * Second;
        execution.Push("l", Batch((40, "a")));
        Assert.Equal(["2024-01-01 00:00:00 | a | 1 | 1", "2024-01-01 00:00:10 | a | 1 | NULL"], rows); // r holds the join back again, at 00:00:27
    }

    [Fact]
    public void An_execution_restored_after_a_restart_does_not_take_a_partition_for_idle_before_its_own_timeout_has_passed()
    {
        var program = SqlProgram.Compile("""
            WATERMARK FOR l.ts AS ts IDLE TIMEOUT INTERVAL '30' SECOND;
            INSERT INTO out SELECT window_start, count(*) AS n FROM l GROUP BY tumble(INTERVAL '10' SECOND)
            """, new Dictionary<string, Schema> { ["l"] = Events }, SqlMode.Streaming);
        long now = 0;
        var (execution, _) = Start(program, () => now);
        execution.Push("l", Batch((1, "a")), partition: 0);
        execution.Push("l", Batch((1, "b")), partition: 1);
        var state = new MemoryStream();
        execution.SaveState(state);

        // Restarted long after: partition 1's records come after partition 0's in the replayed log, and are on time.
        now = 3600 * Second;
        var (restored, rows) = Start(program, () => now);
        state.Position = 0;
        restored.RestoreState(state);
        restored.RestartIdleTimeouts();
        restored.Push("l", Batch((50, "a")), partition: 0);
        restored.Push("l", Batch((8, "b")), partition: 1);
        Assert.Equal(0, restored.Errors.Total);
        restored.Push("l", Batch((60, "b")), partition: 1);
        Assert.Equal(["2024-01-01 00:00:00 | 3"], rows);
    }
}
