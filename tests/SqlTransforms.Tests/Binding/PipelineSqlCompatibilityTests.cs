using Apache.Arrow;
using DataPlane.SqlTransforms.Tests.Corpus;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Binding;

/// <summary>
/// Statements the pipeline SQL of old accepts (INSERT INTO sink SELECT * | columns FROM stream [WHERE comparisons])
/// compile as pipelines and keep their meaning: the same columns, names and rows.
/// </summary>
public sealed class PipelineSqlCompatibilityTests
{
    private static readonly CorpusCase Stream = new("", "id BIGINT NOT NULL, user VARCHAR, who VARCHAR, ok BOOLEAN, score DOUBLE, n INTEGER, ts TIMESTAMP, d DATE, value VARCHAR", [
        """{"id": 1, "user": "ada", "who": "it's", "ok": true, "score": 2.5, "n": 10, "ts": "2024-01-02 00:00:00", "d": "2024-01-02", "value": "{}"}""",
        """{"id": 10, "user": "bob", "who": "x", "ok": null, "score": -3, "n": 11, "ts": "2023-12-31 23:00:00", "d": "2023-12-31", "value": null}""",
        """{"id": 20, "user": null, "who": null, "ok": false, "score": null, "n": null, "ts": null, "d": null, "value": "[]"}""",
    ], "", null, null, false, SqlMode.Streaming, [], null);

    [Theory]
    [InlineData("insert into events_table select * from events;", "id,user,who,ok,score,n,ts,d,value", "1|10|20")]
    [InlineData("INSERT INTO t SELECT id, \"user\" AS who FROM events WHERE id >= 10 AND NOT (who = 'it''s' OR ok IS NULL) OR score < -1.5", "id,who", "10")]
    [InlineData("INSERT INTO t SELECT id FROM events WHERE ts > '2024-01-01T00:00:00Z'", "id", "1")]
    [InlineData("INSERT INTO t SELECT id FROM events WHERE d <= '2023-12-31'", "id", "10")]
    [InlineData("INSERT INTO t SELECT id FROM events WHERE n = 10.0 OR score = 2.5", "id", "1")]
    [InlineData("INSERT INTO t SELECT id, value FROM events WHERE ok = true OR user IS NULL", "id,value", "1|20")]
    [InlineData("INSERT INTO t SELECT id FROM events WHERE NOT (NOT (NOT (id <> 1)))", "id", "1")]
    [InlineData("INSERT INTO t SELECT id AS key, user FROM events WHERE user != 'bob'", "key,user", "1")]
    public void Statements_of_the_old_pipeline_sql_keep_their_meaning(string sql, string columns, string ids)
    {
        var sources = new Dictionary<string, Schema> { ["events"] = Stream.ArrowSchema() };
        var program = SqlProgram.Compile(sql, sources, SqlMode.Streaming);
        Assert.Equal(columns.Split(','), program.Statements[0].OutputSchema.FieldsList.Select(f => f.Name));
        var rows = new List<long>();
        var execution = program.Start((_, batch) =>
        {
            var id = (Int64Array)batch.Column(0);
            for (int i = 0; i < batch.Length; i++) rows.Add(id.GetValue(i)!.Value);
        });
        execution.Push("events", Stream.InputBatch());
        Assert.Equal(ids.Split('|').Select(long.Parse), rows);
    }

    [Fact]
    public void A_thousand_conditions_still_compile()
    {
        var sources = new Dictionary<string, Schema> { ["events"] = Stream.ArrowSchema() };
        SqlProgram.Compile("INSERT INTO t SELECT * FROM events WHERE " + string.Join(" OR ", Enumerable.Range(0, 1_000).Select(i => $"id = {i}")), sources, SqlMode.Streaming);
    }
}
