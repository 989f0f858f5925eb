using Apache.Arrow;
using DataPlane.SqlTransforms.EventTime;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Tests.Corpus;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>The event time as the pipeline runtime sets it (from a stream's JSON), snapshots, and what EXPLAIN shows of windows.</summary>
public sealed class EventTimeApiTests
{
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true)], null);
    private const string Query = "INSERT INTO out SELECT window_start, k, count(*) AS n FROM events GROUP BY tumble(INTERVAL '10 seconds'), k";

    private static RecordBatch Batch(params (string Ts, string K)[] rows)
    {
        var times = rows.Select(r => ValueText.TryParseTimestamp(r.Ts, out long t) ? (object?)t : throw new FormatException(r.Ts)).ToList();
        return new RecordBatch(Events, [ValueArrays.FromValues(SqlType.Timestamp, times), ValueArrays.FromValues(SqlType.Varchar, rows.Select(r => (object?)r.K).ToList())], rows.Length);
    }

    private static List<string> Rows(SqlProgram program, IReadOnlyList<RecordBatch> batches, out RowErrorLog errors)
    {
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start((_, b) => rows.AddRange(RowText.Rows([b], types)), () => 0);
        foreach (var b in batches) execution.Push("events", b);
        execution.Finish();
        errors = execution.Errors;
        return rows;
    }

    private static readonly RecordBatch[] Input =
    [
        Batch(("2024-01-01 00:00:01", "a"), ("2024-01-01 00:00:12", "a")),
        Batch(("2024-01-01 00:00:06", "late"), ("2024-01-01 00:00:08", "b"), ("2024-01-01 00:00:25", "a")),
    ];

    [Fact]
    public void A_watermark_given_by_the_runtime_works_as_one_declared_in_sql()
    {
        var sources = new Dictionary<string, Schema> { ["events"] = Events };
        var given = SqlProgram.Compile(Query, sources, SqlMode.Streaming, new Dictionary<string, WatermarkDefinition> { ["events"] = WatermarkDefinition.Parse("ts", "5 seconds", "30 seconds") });
        var declared = SqlProgram.Compile("WATERMARK FOR events.ts AS ts - INTERVAL '5' SECOND IDLE TIMEOUT INTERVAL '30' SECOND;\n" + Query, sources, SqlMode.Streaming);
        Assert.Equal(declared.Watermarks["events"], given.Watermarks["events"]);
        var a = Rows(given, Input, out var errorsA);
        var b = Rows(declared, Input, out var errorsB);
        Assert.Equal(["2024-01-01 00:00:00 | a | 1", "2024-01-01 00:00:00 | b | 1", "2024-01-01 00:00:10 | a | 1", "2024-01-01 00:00:20 | a | 1"], a.Order(StringComparer.Ordinal));
        Assert.Equal(a, b);
        // 00:00:06 arrives when the watermark is 00:00:07 (00:00:12 minus 5 seconds)
        Assert.Equal(1, errorsA.Snapshot().Single(e => e.Reason.Code == "late").Count);
        Assert.Contains("behind the watermark 2024-01-01 00:00:07", errorsA.Snapshot().Single().RecentSamples[0]);
    }

    [Fact]
    public void Bad_watermark_settings_are_refused_naming_the_value()
    {
        var e = Assert.Throws<ArgumentException>(() => WatermarkDefinition.Parse("ts", "5 parsecs"));
        Assert.Contains("\"5 parsecs\"", e.Message);
        Assert.Contains("\"1 month\"", Assert.Throws<ArgumentException>(() => WatermarkDefinition.Parse("ts", "1 month")).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => WatermarkDefinition.Parse("ts", "5 seconds", "-1 second")).Message);
        var sources = new Dictionary<string, Schema> { ["events"] = Events };
        Assert.Contains("\"when\"", Assert.Throws<ArgumentException>(() => SqlProgram.Compile(Query, sources, SqlMode.Streaming,
            new Dictionary<string, WatermarkDefinition> { ["events"] = new("when", TimeSpan.Zero) })).Message);
        Assert.Contains("not a TIMESTAMP", Assert.Throws<ArgumentException>(() => SqlProgram.Compile(Query, sources, SqlMode.Streaming,
            new Dictionary<string, WatermarkDefinition> { ["events"] = new("k", TimeSpan.Zero) })).Message);
    }

    [Fact]
    public void A_snapshot_restores_only_into_the_same_program()
    {
        var sources = new Dictionary<string, Schema> { ["events"] = Events };
        var windowed = SqlProgram.Compile("WATERMARK FOR ts AS ts;\n" + Query, sources, SqlMode.Streaming);
        var execution = windowed.Start((_, _) => { });
        execution.Push("events", Input[0]);
        var state = new MemoryStream();
        execution.SaveState(state);
        var other = SqlProgram.Compile("WATERMARK FOR ts AS ts;\nINSERT INTO out SELECT k FROM events", sources, SqlMode.Streaming).Start((_, _) => { });
        state.Position = 0;
        Assert.Throws<InvalidDataException>(() => other.RestoreState(state));
        var cut = new MemoryStream(state.ToArray()[..^3]);
        Assert.Throws<InvalidDataException>(() => windowed.Start((_, _) => { }).RestoreState(cut));
        var started = windowed.Start((_, _) => { });
        started.Push("events", Input[0]);
        state.Position = 0;
        Assert.Throws<InvalidOperationException>(() => started.RestoreState(state));
    }

    [Fact]
    public void Explain_shows_the_window_and_its_keys()
    {
        var sources = new Dictionary<string, Schema> { ["events"] = Events };
        var program = SqlProgram.Compile("WATERMARK FOR ts AS ts;\n" + Query.Replace("tumble(INTERVAL '10 seconds')", "hop(INTERVAL '10 seconds', INTERVAL '1 minute')"), sources, SqlMode.Streaming);
        Assert.Contains("WindowAggregate hop(10s, 60s) Aggregate keys [k] count(*)", program.Statements[0].Explain());
        var processing = SqlProgram.Compile(Query, sources, SqlMode.Streaming);
        Assert.Contains("tumble(10s) over processing time", processing.Statements[0].Explain());
    }
}

/// <summary>A window over the UNION ALL of two streams waits for the slower one's watermark.</summary>
public sealed class UnionWatermarkTests
{
    private static readonly Schema Events = new([ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("k", SqlType.Varchar, true)], null);

    private static RecordBatch Batch(string ts, string k) => new(Events,
        [ValueArrays.FromValues(SqlType.Timestamp, [ValueText.TryParseTimestamp(ts, out long t) ? t : 0]), ValueArrays.FromValues(SqlType.Varchar, [k])], 1);

    [Fact]
    public void A_window_over_a_union_closes_when_every_stream_has_passed_its_end()
    {
        var sources = new Dictionary<string, Schema> { ["clicks"] = Events, ["views"] = Events };
        var program = SqlProgram.Compile("""
            WATERMARK FOR clicks.ts AS ts; WATERMARK FOR views.ts AS ts;
            INSERT INTO out SELECT window_start, count(*) AS n FROM (SELECT ts, k FROM clicks UNION ALL SELECT ts, k FROM views) GROUP BY tumble(INTERVAL '10 seconds')
            """, sources, SqlMode.Streaming);
        var types = program.Statements[0].OutputSchema.FieldsList.Select(f => ArrowTypes.FromArrow(f, out _)!).ToList();
        var rows = new List<string>();
        var execution = program.Start((_, b) => rows.AddRange(RowText.Rows([b], types)), () => 0);
        execution.Push("clicks", Batch("2024-01-01 00:00:01", "c"));
        execution.Push("clicks", Batch("2024-01-01 00:00:30", "c"));
        Assert.Empty(rows); // views has no watermark yet: the window [0, 10) must wait for it
        execution.Push("views", Batch("2024-01-01 00:00:05", "v"));
        Assert.Empty(rows);
        execution.Push("views", Batch("2024-01-01 00:00:12", "v"));
        Assert.Equal(["2024-01-01 00:00:00 | 2"], rows);
        Assert.Empty(execution.Errors.Snapshot());
        execution.Finish();
        Assert.Equal(["2024-01-01 00:00:00 | 2", "2024-01-01 00:00:10 | 1", "2024-01-01 00:00:30 | 1"], rows.Order(StringComparer.Ordinal));
    }
}
