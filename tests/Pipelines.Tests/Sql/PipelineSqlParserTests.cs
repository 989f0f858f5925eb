using DataPlane.Pipelines.Sql;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sql;

public sealed class PipelineSqlParserTests
{
    [Fact]
    public void Select_star_names_the_sink_and_the_stream()
    {
        var s = PipelineSqlParser.Parse("insert into events_table select * from events;");
        Assert.Equal(("events_table", "events", true, null), (s.Sink, s.Stream, s.SelectsAll, s.Where));
    }

    [Fact]
    public void A_projection_with_aliases_and_a_where_clause_parse_with_precedence()
    {
        var s = PipelineSqlParser.Parse("""INSERT INTO t SELECT id, "user" AS who FROM e WHERE id >= 10 AND NOT (who = 'it''s' OR ok IS NULL) OR score < -1.5""");
        Assert.Equal([new Projection("id", "id"), new Projection("user", "who")], s.Columns);
        var or = Assert.IsType<Predicate.Or>(s.Where);
        var and = Assert.IsType<Predicate.And>(or.Left);
        Assert.Equal(new Predicate.Compare("id", ">=", 10L), and.Left);
        var not = Assert.IsType<Predicate.Not>(and.Right);
        var inner = Assert.IsType<Predicate.Or>(not.Inner);
        Assert.Equal(new Predicate.Compare("who", "=", "it's"), inner.Left);
        Assert.Equal(new Predicate.IsNull("ok", false), inner.Right);
        Assert.Equal(new Predicate.Compare("score", "<", -1.5), or.Right);
    }

    [Theory]
    [InlineData("SELECT * FROM e", "expected INSERT")]
    [InlineData("INSERT INTO t SELECT FROM e", "expected a column name or *")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x ~ 1", "unexpected character '~'")]
    [InlineData("INSERT INTO t SELECT * FROM e GROUP BY x", "unexpected 'GROUP'")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x = 'open", "is not closed")]
    public void Errors_say_where_and_what_was_expected(string sql, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => PipelineSqlParser.Parse(sql));
        Assert.Contains(expected, e.Message);
    }
}
