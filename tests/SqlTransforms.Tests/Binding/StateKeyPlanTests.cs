using Apache.Arrow;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Binding;

/// <summary>Whether a statement's state splits by the stream's key, so a keyed topic's partitions can each run apart.</summary>
public sealed class StateKeyPlanTests
{
    private static readonly Dictionary<string, Schema> Sources = new()
    {
        ["orders"] = new CorpusCase("", "ts TIMESTAMP, user_id BIGINT, region VARCHAR, amount INTEGER", [], "", null, null, false, SqlMode.Streaming, [], null).ArrowSchema(),
    };

    private static string? Problem(string sql) => SqlProgram.Compile(sql, Sources, SqlMode.Streaming).Statements[0].StateKeyProblem("orders", "user_id");

    [Theory]
    [InlineData("INSERT INTO out SELECT window_start, user_id, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' MINUTE), user_id")]
    [InlineData("INSERT INTO out SELECT window_start, u, region, sum(amount) AS s FROM (SELECT ts, user_id AS u, region, amount FROM orders WHERE amount > 0) GROUP BY hop(INTERVAL '10' SECOND, INTERVAL '1' MINUTE), region, u")]
    [InlineData("INSERT INTO out SELECT user_id, sum(amount) AS total FROM orders GROUP BY user_id")]
    [InlineData("INSERT INTO out SELECT user_id, amount * 2 AS doubled FROM orders")]
    public void State_grouped_by_the_stream_key_splits_by_it(string sql) => Assert.Null(Problem(sql));

    [Theory]
    [InlineData("INSERT INTO out SELECT window_start, region, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' MINUTE), region", "GROUP BY key region differs from the stream key user_id")]
    [InlineData("INSERT INTO out SELECT window_start, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' MINUTE)", "no GROUP BY key")]
    [InlineData("INSERT INTO out SELECT window_start, user_id % 10 AS k, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' MINUTE), k", "differs from the stream key user_id")]
    public void State_grouped_otherwise_says_why(string sql, string reason) => Assert.Contains(reason, Problem(sql));
}
