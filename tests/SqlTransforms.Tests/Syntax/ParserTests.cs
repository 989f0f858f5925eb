using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Syntax;
using Xunit;

namespace DataPlane.SqlTransforms.Tests.Syntax;

public sealed class ParserTests
{
    [Fact]
    public void Several_insert_statements_separated_by_semicolons_each_name_their_sink()
    {
        var statements = Parser.Parse("INSERT INTO a SELECT * FROM s; insert into b select id from s where id > 1;");
        Assert.Equal(["a", "b"], statements.Select(s => ((SqlStatement.Insert)s).Sink.Text));
    }

    [Fact]
    public void Operators_bind_by_precedence_and_and_or_chains_are_one_wide_node()
    {
        var e = Parser.ParseExpression("a + b * c = 7 OR x AND y AND NOT z");
        var or = Assert.IsType<SqlExpression.Or>(e);
        var eq = Assert.IsType<SqlExpression.Binary>(or.Terms[0]);
        Assert.Equal("=", eq.Operator);
        var plus = Assert.IsType<SqlExpression.Binary>(eq.Left);
        Assert.Equal("+", plus.Operator);
        Assert.Equal("*", Assert.IsType<SqlExpression.Binary>(plus.Right).Operator);
        var and = Assert.IsType<SqlExpression.And>(or.Terms[1]);
        Assert.Equal(3, and.Terms.Count);
        Assert.IsType<SqlExpression.Not>(and.Terms[2]);
    }

    [Fact]
    public void Postfix_casts_indexes_and_field_access_apply_to_the_primary_before_operators()
    {
        var e = Assert.IsType<SqlExpression.Binary>(Parser.ParseExpression("-x::int + l[1].f"));
        Assert.IsType<SqlExpression.Unary>(e.Left);
        var field = Assert.IsType<SqlExpression.FieldAccess>(e.Right);
        Assert.Equal("f", field.Field.Text);
        Assert.IsType<SqlExpression.Index>(field.Operand);
    }

    [Fact]
    public void A_sign_on_a_number_is_part_of_the_literal()
    {
        var literal = Assert.IsType<SqlExpression.Literal>(Parser.ParseExpression("-9223372036854775808"));
        Assert.Equal("-9223372036854775808", literal.Text);
    }

    [Fact]
    public void Columns_named_like_non_reserved_keywords_need_no_quotes()
    {
        var s = (SqlStatement.Insert)Parser.Parse("INSERT INTO t SELECT value, user, date, key, interval, extract FROM e WHERE value IS NOT NULL")[0];
        var select = Assert.IsType<QueryExpression.Select>(s.Body);
        Assert.Equal(["value", "user", "date", "key", "interval", "extract"],
            select.Items.Select(i => Assert.IsType<SqlExpression.ColumnRef>(i.Expression).Parts[0].Text));
    }

    [Fact]
    public void The_whole_dialect_parses()
    {
        const string sql = """
            WITH recent AS (SELECT id, tags, s FROM events WHERE ts > TIMESTAMP '2024-01-01' - INTERVAL '1' DAY)
            SELECT DISTINCT id, CASE WHEN id BETWEEN 1 AND 10 THEN 'low' WHEN id IN (11, 12) THEN 'mid' ELSE 'high' END AS band,
                   CAST(id AS VARCHAR) || '-' || TRY_CAST(s.f AS DOUBLE), s.f IS NOT DISTINCT FROM NULL, unnest(tags) AS tag,
                   extract(hour FROM ts), x ILIKE 'a%' ESCAPE '\', y NOT LIKE '_b', tags[1], {'a': 1}.a, [1, 2, 3]
            FROM (SELECT * FROM recent) r
            WHERE NOT (id IS NULL) -- a comment
            GROUP BY 1, 2 HAVING count(*) > 1
            UNION ALL SELECT 1, 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            ORDER BY 1 DESC NULLS FIRST LIMIT 10 OFFSET 2
            """;
        var statement = Assert.Single(Parser.Parse(sql));
        var query = Assert.IsType<QueryExpression.Query>(Assert.IsType<SqlStatement.Select>(statement).Body);
        Assert.Single(query.With);
        Assert.Equal(2, Assert.IsType<QueryExpression.UnionAll>(query.Body).Inputs.Count);
    }

    [Theory]
    [InlineData("SELECT a FROM", 1, 14, "expected a stream name")]
    [InlineData("SELECT a,\n  b +\n FROM s", 3, 2, "expected an expression but found the keyword FROM")]
    [InlineData("SELECT 'open FROM s", 1, 8, "string starting here is not closed")]
    [InlineData("SELECT a FROM s WHERE x ~ 1", 1, 25, "unexpected character '~'")]
    [InlineData("SELECT a FROM s, t", 1, 16, "a comma between tables (an implicit cross join) is not supported; write JOIN ... ON")]
    [InlineData("SELECT a FROM s JOIN t USING (k)", 1, 24, "JOIN ... USING (columns) is not supported")]
    [InlineData("SELECT a FROM s CROSS JOIN t ON s.k = t.k", 1, 30, "CROSS JOIN takes no ON condition")]
    [InlineData("SELECT a FROM s NATURAL JOIN t", 1, 17, "NATURAL JOIN is not supported")]
    [InlineData("SELECT a FROM s UNION SELECT b FROM t", 1, 23, "expected ALL after UNION")]
    [InlineData("INSERT INTO t VALUES (1)", 1, 15, "expected SELECT or WITH after INSERT INTO t")]
    [InlineData("SELECT CAST(a AS) FROM s", 1, 17, "expected a type name")]
    [InlineData("SELECT a = b = c FROM s", 1, 14, "comparisons do not chain")]
    [InlineData("SELECT from FROM s", 1, 8, "found the keyword FROM; write \"from\" in double quotes")]
    [InlineData("SELECT 1a FROM s", 1, 8, "'1a' is not a number")]
    public void Errors_give_line_column_a_caret_and_what_was_expected(string sql, int line, int column, string expected)
    {
        var e = Assert.Throws<SqlException>(() => Parser.Parse(sql));
        Assert.Contains(expected, e.Problem);
        Assert.Equal((line, column), (e.Line, e.Column));
        var lines = e.Message.Split('\n');
        Assert.Equal(new string(' ', column + 1) + "^", lines[2]);
        Assert.Equal("  " + sql.Split('\n')[line - 1], lines[1]);
    }

    [Fact]
    public void Limits_of_length_conditions_nesting_and_height_are_refused_naming_the_limit()
    {
        Assert.Contains("the limit is 65536 characters", Assert.Throws<SqlException>(() => Parser.Parse("SELECT " + new string('1', 70_000))).Message);
        var conditions = string.Join(" OR ", Enumerable.Range(0, 1_001).Select(i => $"id = {i}"));
        Assert.Contains("more than 1000 conditions", Assert.Throws<SqlException>(() => Parser.Parse("SELECT * FROM e WHERE " + conditions)).Message);
        Parser.Parse("SELECT * FROM e WHERE " + string.Join(" OR ", Enumerable.Range(0, 1_000).Select(i => $"id = {i}")));
        Assert.Contains("nested more than 32 levels", Assert.Throws<SqlException>(() => Parser.Parse("SELECT " + new string('(', 33) + "1" + new string(')', 33))).Message);
        Assert.Contains("nested more than 32 levels", Assert.Throws<SqlException>(() => Parser.Parse("SELECT * FROM e WHERE " + string.Concat(Enumerable.Repeat("NOT ", 33)) + "a")).Message);
        Parser.Parse("SELECT " + new string('(', 32) + "1" + new string(')', 32));
        Assert.Contains("nested more than 256 levels", Assert.Throws<SqlException>(() => Parser.Parse("SELECT " + string.Join(" + ", Enumerable.Range(0, 300)))).Message);
        Parser.Parse("SELECT " + string.Join(" + ", Enumerable.Range(0, 250)));
    }
}
