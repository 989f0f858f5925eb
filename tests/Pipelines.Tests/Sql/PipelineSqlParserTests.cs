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
        Assert.Equal(2, or.Terms.Count);
        var and = Assert.IsType<Predicate.And>(or.Terms[0]);
        Assert.Equal(new Predicate.Compare("id", ">=", 10L), and.Terms[0]);
        var not = Assert.IsType<Predicate.Not>(and.Terms[1]);
        var inner = Assert.IsType<Predicate.Or>(not.Inner);
        Assert.Equal(new Predicate.Compare("who", "=", "it's"), inner.Terms[0]);
        Assert.Equal(new Predicate.IsNull("ok", false), inner.Terms[1]);
        Assert.Equal(new Predicate.Compare("score", "<", -1.5), or.Terms[1]);
    }

    [Fact]
    public void A_chain_of_ands_or_ors_is_one_wide_node_so_the_tree_is_only_as_deep_as_the_nesting()
    {
        var s = PipelineSqlParser.Parse("INSERT INTO t SELECT * FROM e WHERE " + string.Join(" OR ", Enumerable.Range(0, 500).Select(i => $"a = {i} AND b = {i}")));
        var or = Assert.IsType<Predicate.Or>(s.Where);
        Assert.Equal(500, or.Terms.Count);
        Assert.All(or.Terms, t => Assert.Equal(2, Assert.IsType<Predicate.And>(t).Terms.Count));
    }

    [Theory]
    [InlineData(1_001, 0, "more than 1000 conditions")]
    [InlineData(1, 33, "nested more than 32 levels")]
    [InlineData(20_000, 0, "the limit is 65536 characters")]
    public void Statements_past_the_limits_are_refused_naming_the_limit(int terms, int depth, string expected)
    {
        var where = new string('(', depth) + string.Join(" OR ", Enumerable.Range(0, terms).Select(i => $"id = {i}")) + new string(')', depth);
        var e = Assert.Throws<ArgumentException>(() => PipelineSqlParser.Parse("INSERT INTO t SELECT * FROM e WHERE " + where));
        Assert.Contains(expected, e.Message);
        var nots = string.Concat(Enumerable.Repeat("NOT ", PipelineSqlParser.MaxDepth + 1));
        Assert.Contains("nested more than 32 levels", Assert.Throws<ArgumentException>(() => PipelineSqlParser.Parse("INSERT INTO t SELECT * FROM e WHERE " + nots + "id = 1")).Message);
        PipelineSqlParser.Parse("INSERT INTO t SELECT * FROM e WHERE " + string.Concat(Enumerable.Repeat("NOT (", PipelineSqlParser.MaxDepth / 2)) + "id = 1" + new string(')', PipelineSqlParser.MaxDepth / 2));
    }

    [Theory]
    [InlineData("SELECT * FROM e", "expected INSERT")]
    [InlineData("INSERT INTO t SELECT FROM e", "expected a column name or *")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x ~ 1", "unexpected character '~'")]
    [InlineData("INSERT INTO t SELECT * FROM e GROUP BY x", "unexpected 'GROUP'")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x = 'open", "is not closed")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x = 1.2.3", "'1.2.3' is not a number")]
    [InlineData("INSERT INTO t SELECT * FROM e WHERE x = 1e999", "'1e999' is not a number")]
    public void Errors_say_where_and_what_was_expected(string sql, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => PipelineSqlParser.Parse(sql));
        Assert.Contains(expected, e.Message);
    }
}
