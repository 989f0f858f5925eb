using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Stateful;

/// <summary>Top-N and deduplication per window: what EXPLAIN and the status show, and state bounded by the limit.</summary>
public sealed class TopNApiTests
{
    private static readonly Schema Bids = new([
        ArrowTypes.Field("ts", SqlType.Timestamp, true), ArrowTypes.Field("auction", SqlType.BigInt, true), ArrowTypes.Field("price", SqlType.BigInt, true)], null);

    private static readonly Dictionary<string, Schema> Sources = new() { ["bids"] = Bids };

    private const string TopThree = "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND;\n"
        + "INSERT INTO out SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tumble(INTERVAL '1 minute'), auction ORDER BY price DESC) AS rn FROM bids) WHERE rn <= 3";

    [Fact]
    public void Explain_shows_the_window_the_keys_the_order_and_the_rows_kept()
    {
        var program = SqlProgram.Compile(TopThree, Sources, SqlMode.Streaming);
        string top = program.Statements[0].Explain();
        Assert.True(top.Contains("WindowTopN tumble(60s) by [auction] order [price DESC] row_number (keeps row_number <= 3)", StringComparison.Ordinal), top);
        var dedup = SqlProgram.Compile(TopThree.Replace("rn <= 3", "rn = 1", StringComparison.Ordinal).Replace("price DESC", "ts", StringComparison.Ordinal), Sources, SqlMode.Streaming);
        string first = dedup.Statements[0].Explain();
        Assert.True(first.Contains("WindowDeduplicate tumble(60s) by [auction] order [ts] row_number (keeps row_number <= 1)", StringComparison.Ordinal), first);
        var afterAggregate = SqlProgram.Compile("WATERMARK FOR ts AS ts;\nINSERT INTO out SELECT * FROM (SELECT *, rank() OVER (PARTITION BY window_start ORDER BY n DESC) AS r "
            + "FROM (SELECT window_start, auction, count(*) AS n FROM bids GROUP BY hop(INTERVAL '10 seconds', INTERVAL '1 minute'), auction)) WHERE r <= 10", Sources, SqlMode.Streaming);
        string plan = afterAggregate.Statements[0].Explain();
        Assert.True(plan.Contains("WindowTopN hop(10s, 60s) by [window_start] order [n DESC] rank (keeps rank <= 10)", StringComparison.Ordinal), plan);
        Assert.Contains("WindowAggregate hop(10s, 60s)", plan);
        var execution = program.Start((_, _) => { });
        Assert.True(execution.HasState);
        Assert.Contains(execution.StatefulOperators, o => o.Name.StartsWith("top-n tumble(60s) by [auction]", StringComparison.Ordinal));
    }

    [Fact]
    public void State_holds_the_limit_per_window_and_key_however_many_records_arrive()
    {
        long Size(int records)
        {
            var program = SqlProgram.Compile(TopThree, Sources, SqlMode.Streaming);
            var execution = program.Start((_, _) => { });
            var random = new Random(7);
            for (int pushed = 0; pushed < records; pushed += 500)
            {
                // every record in the same minute, over 4 auctions: the window stays open
                var times = Enumerable.Range(0, 500).Select(i => (object?)(1_704_067_200_000_000L + (pushed + i) * 10L)).ToList();
                var auctions = Enumerable.Range(0, 500).Select(i => (object?)(long)(i % 4)).ToList();
                var prices = Enumerable.Range(0, 500).Select(_ => (object?)(long)random.Next(1_000_000)).ToList();
                execution.Push("bids", new RecordBatch(Bids, [ValueArrays.FromValues(SqlType.Timestamp, times), ValueArrays.FromValues(SqlType.BigInt, auctions),
                    ValueArrays.FromValues(SqlType.BigInt, prices)], 500));
            }
            var state = new MemoryStream();
            execution.SaveState(state);
            return execution.StatefulOperators.Single().StateBytes!.Value;
        }
        long small = Size(500), large = Size(50_000);
        Assert.True(large == small, $"the state of 50,000 records is {large} bytes, of 500 records {small}: 4 auctions times 3 rows either way");
    }
}
