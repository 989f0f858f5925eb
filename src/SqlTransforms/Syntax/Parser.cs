using System.Globalization;
using DataPlane.SqlTransforms.Diagnostics;

namespace DataPlane.SqlTransforms.Syntax;

/// <summary>
/// Recursive descent over the tokens into statements. Recursion happens only where the SQL nests (parentheses,
/// subqueries, calls, CASE, NOT and signs), and <see cref="SqlLimits.MaxDepth"/> bounds it; operator chains are
/// loops, and the height of the trees they build is bounded by <see cref="SqlLimits.MaxExpressionHeight"/>.
/// Keywords are case-insensitive and reserved only where the grammar needs them: a column may be called value,
/// user, date or key without quotes.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>Words that cannot be an unquoted column, alias or table name (they would make the grammar ambiguous).</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CROSS", "DESC", "DISTINCT", "ELSE", "END", "EXCEPT",
        "FALSE", "FROM", "FULL", "GROUP", "HAVING", "ILIKE", "IN", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN",
        "LEFT", "LIKE", "LIMIT", "NOT", "NULL", "OFFSET", "ON", "OR", "ORDER", "OUTER", "RIGHT", "SELECT", "SIMILAR",
        "THEN", "TRUE", "TRY_CAST", "UNION", "USING", "WHEN", "WHERE", "WINDOW", "WITH",
    };

    private readonly string _sql;
    private readonly List<Token> _tokens;
    private int _next;
    private int _depth;
    private int _terms;

    private Parser(string sql)
    {
        _sql = sql;
        _tokens = Lexer.Tokenize(sql);
    }

    /// <summary>Every statement of <paramref name="sql"/>; a <see cref="SqlException"/> saying where and what was expected otherwise.</summary>
    public static IReadOnlyList<SqlStatement> Parse(string sql)
    {
        if (sql.Length > SqlLimits.MaxLength)
            throw new SqlException($"the SQL text is {sql.Length} characters; the limit is {SqlLimits.MaxLength} characters",
                SourcePosition.At(sql, SqlLimits.MaxLength), sql);
        return new Parser(sql).Script();
    }

    /// <summary>One expression alone (for tests and tools).</summary>
    public static SqlExpression ParseExpression(string sql)
    {
        var parser = new Parser(sql);
        var e = parser.Expression();
        parser.ExpectEnd("the end of the expression");
        return e;
    }

    private List<SqlStatement> Script()
    {
        var statements = new List<SqlStatement>();
        while (true)
        {
            while (TrySymbol(";")) { }
            if (Peek.Kind == TokenKind.End) break;
            if (statements.Count == SqlLimits.MaxStatements)
                throw Error($"the SQL text has more than {SqlLimits.MaxStatements} statements, the limit");
            _terms = 0;
            statements.Add(Statement());
            if (Peek.Kind != TokenKind.End && !Peek.IsSymbol(";"))
                throw Error($"expected ';' or the end of the statement but found {Peek.Describe()}");
        }
        if (statements.Count == 0)
            throw Error("expected a statement (INSERT INTO <sink> SELECT ... or SELECT ...) but the SQL text is empty");
        return statements;
    }

    private SqlStatement Statement()
    {
        int start = Peek.Start;
        if (IsWord("INSERT"))
        {
            _next++;
            ExpectWord("INTO");
            var sink = Name("the sink name");
            if (!IsWord("SELECT") && !IsWord("WITH") && !Peek.IsSymbol("("))
                throw Error($"expected SELECT or WITH after INSERT INTO {sink} but found {Peek.Describe()}");
            return new SqlStatement.Insert(sink, Query(), start);
        }
        if (IsWord("SELECT") || IsWord("WITH") || Peek.IsSymbol("("))
            return new SqlStatement.Select(Query(), start);
        if (IsWord("WATERMARK")) return WatermarkStatement();
        throw Error($"expected INSERT INTO <sink> SELECT ... or SELECT ... but found {Peek.Describe()}");
    }

    /// <summary><c>WATERMARK FOR [stream.]column AS expression [IDLE TIMEOUT interval]</c> (checked when compiling).</summary>
    private SqlStatement WatermarkStatement()
    {
        int start = Peek.Start;
        _next++;
        ExpectWord("FOR");
        var first = Name("the event time column (or stream.column)");
        SqlName? stream = null;
        var column = first;
        if (TrySymbol(".")) { stream = first; column = Name("the event time column after '.'"); }
        ExpectWord("AS");
        var expression = Expression();
        SqlExpression? idle = null;
        if (IsWord("IDLE"))
        {
            _next++;
            ExpectWord("TIMEOUT");
            idle = Expression();
        }
        return new SqlStatement.Watermark(stream, column, expression, idle, start);
    }

    private QueryExpression Query()
    {
        int start = Peek.Start;
        var with = new List<CommonTableExpression>();
        if (IsWord("WITH"))
        {
            _next++;
            if (IsWord("RECURSIVE"))
                throw Error("WITH RECURSIVE is not supported");
            do
            {
                var name = Name("the name of the WITH query");
                ExpectWord("AS");
                ExpectSymbol("(", "'(' before the WITH query");
                Enter();
                var q = Query();
                Leave();
                ExpectSymbol(")", "')' after the WITH query");
                with.Add(new CommonTableExpression(name, q));
            } while (TrySymbol(","));
        }
        var body = SetExpression();
        var orderBy = new List<OrderItem>();
        SqlExpression? limit = null, offset = null;
        if (IsWord("ORDER"))
        {
            _next++;
            ExpectWord("BY");
            do orderBy.Add(OrderItem()); while (TrySymbol(","));
        }
        if (IsWord("LIMIT")) { _next++; limit = Expression(); }
        if (IsWord("OFFSET")) { _next++; offset = Expression(); }
        if (with.Count == 0 && orderBy.Count == 0 && limit is null && offset is null)
            return body;
        return new QueryExpression.Query(with, body, orderBy, limit, offset, start);
    }

    private QueryExpression SetExpression()
    {
        int start = Peek.Start;
        var first = QueryTerm();
        if (!IsWord("UNION"))
        {
            if (IsWord("EXCEPT") || IsWord("INTERSECT"))
                throw Error($"{Peek.Text.ToUpperInvariant()} is not supported; UNION ALL is");
            return first;
        }
        var inputs = new List<QueryExpression> { first };
        while (IsWord("UNION"))
        {
            _next++;
            if (!IsWord("ALL"))
                throw Error($"expected ALL after UNION but found {Peek.Describe()}: UNION ALL is supported (UNION without ALL would need to remember every row of a stream)");
            _next++;
            inputs.Add(QueryTerm());
        }
        if (IsWord("EXCEPT") || IsWord("INTERSECT"))
            throw Error($"{Peek.Text.ToUpperInvariant()} is not supported; UNION ALL is");
        return new QueryExpression.UnionAll(inputs, start);
    }

    private QueryExpression QueryTerm()
    {
        if (Peek.IsSymbol("("))
        {
            _next++;
            Enter();
            var q = Query();
            Leave();
            ExpectSymbol(")", "')' after the query");
            return q;
        }
        if (!IsWord("SELECT"))
            throw Error($"expected SELECT but found {Peek.Describe()}");
        return Select();
    }

    private QueryExpression.Select Select()
    {
        int start = Peek.Start;
        ExpectWord("SELECT");
        bool distinct = false;
        if (IsWord("DISTINCT"))
        {
            _next++;
            distinct = true;
            if (IsWord("ON")) throw Error("DISTINCT ON is not supported");
        }
        else if (IsWord("ALL")) _next++;
        var items = new List<SelectItem>();
        do
        {
            items.Add(SelectItem());
        } while (TrySymbol(","));
        TableReference? from = null;
        if (IsWord("FROM"))
        {
            _next++;
            from = Joins(TableReference());
        }
        SqlExpression? where = null, having = null;
        var groupBy = new List<SqlExpression>();
        int groupByPosition = -1;
        if (IsWord("WHERE")) { _next++; where = Expression(); }
        if (IsWord("GROUP"))
        {
            groupByPosition = Peek.Start;
            _next++;
            ExpectWord("BY");
            do groupBy.Add(Expression()); while (TrySymbol(","));
        }
        if (IsWord("HAVING")) { _next++; having = Expression(); }
        if (IsWord("WINDOW") || IsWord("QUALIFY"))
            throw Error($"{Peek.Text.ToUpperInvariant()} is not supported");
        return new QueryExpression.Select(distinct, items, from, where, groupBy, having, start) { GroupByPosition = groupByPosition };
    }

    private SelectItem SelectItem()
    {
        var t = Peek;
        if (t.IsSymbol("*"))
        {
            _next++;
            return new SelectItem(new SqlExpression.Star(null, t.Start, t.End), null);
        }
        // t.* : a name, a dot and a star
        if ((t.Kind == TokenKind.QuotedIdentifier || (t.Kind == TokenKind.Word && !Reserved.Contains(t.Text)))
            && _tokens[_next + 1].IsSymbol(".") && _tokens[_next + 2].IsSymbol("*"))
        {
            _next += 3;
            return new SelectItem(new SqlExpression.Star(ToName(t), t.Start, _tokens[_next - 1].End), null);
        }
        var e = Expression();
        SqlName? alias = null;
        if (IsWord("AS")) { _next++; alias = Name("the column's name after AS"); }
        else if (Peek.Kind == TokenKind.QuotedIdentifier || (Peek.Kind == TokenKind.Word && !Reserved.Contains(Peek.Text)))
            alias = Name("an alias");
        return new SelectItem(e, alias);
    }

    private const int MaxTableNameParts = 3;

    private TableReference TableReference()
    {
        int start = Peek.Start;
        TableReference result;
        if (Peek.IsSymbol("("))
        {
            _next++;
            Enter();
            if (!IsWord("SELECT") && !IsWord("WITH") && !Peek.IsSymbol("("))
                throw Error($"expected a query (SELECT ...) in parentheses after FROM but found {Peek.Describe()}");
            var q = Query();
            Leave();
            ExpectSymbol(")", "')' after the subquery");
            result = new TableReference.Subquery(q, Alias(), start);
        }
        else
        {
            var name = Name("a stream name, a WITH query's name or (SELECT ...)");
            // namespace.table or db.name.table: a table a lookup join reads (the binder checks where it stands)
            var qualifiers = new List<SqlName>();
            while (Peek.IsSymbol(".") && qualifiers.Count < MaxTableNameParts)
            {
                _next++;
                qualifiers.Add(name);
                name = Name("a table name after '.'");
            }
            if (Peek.IsSymbol("."))
                throw Error($"a table name in FROM has at most {MaxTableNameParts + 1} parts (namespace.table, db.name.table)");
            if (Peek.IsSymbol("("))
                throw Error($"table functions such as {name}(...) are not supported in FROM");
            result = new TableReference.Named(name, Alias(), start) { Qualifiers = qualifiers };
        }
        return result;
    }

    private SqlName? Alias()
    {
        if (IsWord("AS")) { _next++; return Name("an alias after AS"); }
        if (Peek.Kind == TokenKind.QuotedIdentifier || (Peek.Kind == TokenKind.Word && !Reserved.Contains(Peek.Text) && !IsClauseWord()))
            return Name("an alias");
        return null;
    }

    /// <summary>Words that end a FROM clause without being reserved everywhere.</summary>
    private bool IsClauseWord() => IsWord("WINDOW") || IsWord("QUALIFY") || IsWord("NATURAL") || IsWord("ASOF") || IsWord("POSITIONAL");

    // ---- expressions, loosest binding first ----

    public SqlExpression Expression() => OrExpression();

    private SqlExpression OrExpression()
    {
        var first = AndExpression();
        if (!IsWord("OR")) return first;
        var terms = new List<SqlExpression> { first };
        while (IsWord("OR")) { _next++; terms.Add(AndExpression()); }
        return Build(new SqlExpression.Or(terms, first.Start, terms[^1].End), terms);
    }

    private SqlExpression AndExpression()
    {
        var first = NotExpression();
        if (!IsWord("AND")) return first;
        var terms = new List<SqlExpression> { first };
        while (IsWord("AND")) { _next++; terms.Add(NotExpression()); }
        return Build(new SqlExpression.And(terms, first.Start, terms[^1].End), terms);
    }

    private SqlExpression NotExpression()
    {
        if (!IsWord("NOT")) return Predicate();
        int start = Peek.Start;
        _next++;
        Enter();
        var operand = NotExpression();
        Leave();
        return Build(new SqlExpression.Not(operand, start, operand.End), operand);
    }

    private static readonly string[] Comparisons = ["=", "==", "<>", "!=", "<", "<=", ">", ">="];

    private SqlExpression Predicate()
    {
        var left = ConcatExpression();
        var t = Peek;
        if (t.Kind == TokenKind.Symbol && Array.IndexOf(Comparisons, t.Text) >= 0)
        {
            _next++;
            Term();
            var right = ConcatExpression();
            string op = t.Text switch { "==" => "=", "!=" => "<>", _ => t.Text };
            var e = Build(new SqlExpression.Binary(op, left, right, t.Start, left.Start, right.End), left, right);
            if (Peek.Kind == TokenKind.Symbol && Array.IndexOf(Comparisons, Peek.Text) >= 0)
                throw Error($"comparisons do not chain: put parentheses around one side of {Peek.Describe()}");
            return e;
        }
        if (IsWord("IS"))
        {
            _next++;
            Term();
            bool negated = false;
            if (IsWord("NOT")) { _next++; negated = true; }
            if (IsWord("NULL")) { _next++; return Build(new SqlExpression.IsNull(left, negated, left.Start, _tokens[_next - 1].End), left); }
            if (IsWord("TRUE") || IsWord("FALSE"))
            {
                bool value = IsWord("TRUE");
                _next++;
                return Build(new SqlExpression.IsBoolean(left, value, negated, left.Start, _tokens[_next - 1].End), left);
            }
            if (IsWord("DISTINCT"))
            {
                _next++;
                ExpectWord("FROM");
                var right = ConcatExpression();
                return Build(new SqlExpression.IsDistinctFrom(left, right, negated, left.Start, right.End), left, right);
            }
            throw Error($"expected NULL, NOT NULL, TRUE, FALSE or DISTINCT FROM after IS but found {Peek.Describe()}");
        }
        bool not = false;
        if (IsWord("NOT") && (_tokens[_next + 1].IsWord("BETWEEN") || _tokens[_next + 1].IsWord("IN") || _tokens[_next + 1].IsWord("LIKE")
            || _tokens[_next + 1].IsWord("ILIKE") || _tokens[_next + 1].IsWord("SIMILAR")))
        {
            _next++;
            not = true;
        }
        if (IsWord("BETWEEN"))
        {
            _next++;
            Term();
            if (IsWord("SYMMETRIC")) throw Error("BETWEEN SYMMETRIC is not supported");
            var low = ConcatExpression();
            ExpectWord("AND");
            var high = ConcatExpression();
            return Build(new SqlExpression.Between(left, low, high, not, left.Start, high.End), left, low, high);
        }
        if (IsWord("IN"))
        {
            _next++;
            ExpectSymbol("(", "'(' and a list of values after IN");
            if (IsWord("SELECT") || IsWord("WITH"))
                throw Error("IN (SELECT ...) is not supported; list the values: IN (1, 2, 3)");
            Enter();
            var items = new List<SqlExpression>();
            do
            {
                Term();
                items.Add(Expression());
            } while (TrySymbol(","));
            Leave();
            ExpectSymbol(")", "')' or ',' in the IN list");
            return Build(new SqlExpression.InList(left, items, not, left.Start, _tokens[_next - 1].End), [left, .. items]);
        }
        if (IsWord("LIKE") || IsWord("ILIKE") || IsWord("SIMILAR"))
        {
            bool similar = IsWord("SIMILAR");
            bool insensitive = IsWord("ILIKE");
            _next++;
            if (similar) ExpectWord("TO");
            Term();
            var pattern = ConcatExpression();
            SqlExpression? escape = null;
            if (IsWord("ESCAPE")) { _next++; escape = ConcatExpression(); }
            return Build(new SqlExpression.Like(left, pattern, escape, insensitive, similar, not, left.Start, (escape ?? pattern).End), left, pattern, escape);
        }
        if (not)
            throw Error($"expected BETWEEN, IN, LIKE, ILIKE or SIMILAR TO after NOT but found {Peek.Describe()}");
        return left;
    }

    private SqlExpression ConcatExpression()
    {
        var left = Additive();
        while (Peek.IsSymbol("||") || Peek.IsSymbol("->") || Peek.IsSymbol("->>"))
        {
            var op = Peek;
            _next++;
            var right = Additive();
            left = Build(new SqlExpression.Binary(op.Text, left, right, op.Start, left.Start, right.End), left, right);
        }
        return left;
    }

    private SqlExpression Additive()
    {
        var left = Multiplicative();
        while (Peek.IsSymbol("+") || Peek.IsSymbol("-"))
        {
            var op = Peek;
            _next++;
            var right = Multiplicative();
            left = Build(new SqlExpression.Binary(op.Text, left, right, op.Start, left.Start, right.End), left, right);
        }
        return left;
    }

    private SqlExpression Multiplicative()
    {
        var left = UnaryExpression();
        while (Peek.IsSymbol("*") || Peek.IsSymbol("/") || Peek.IsSymbol("%") || Peek.IsSymbol("//"))
        {
            var op = Peek;
            _next++;
            var right = UnaryExpression();
            left = Build(new SqlExpression.Binary(op.Text, left, right, op.Start, left.Start, right.End), left, right);
        }
        return left;
    }

    private SqlExpression UnaryExpression()
    {
        var t = Peek;
        if (t.IsSymbol("-") || t.IsSymbol("+"))
        {
            _next++;
            // A sign on a number is part of the literal, so -9223372036854775808 is a BIGINT like in DuckDB.
            var n = Peek;
            if (n.Kind is TokenKind.Integer or TokenKind.Decimal && !IsPostfixAt(_next + 1))
            {
                _next++;
                var kind = n.Kind == TokenKind.Integer ? LiteralKind.Integer : LiteralKind.Decimal;
                return new SqlExpression.Literal(kind, t.Text == "-" ? "-" + n.Text : n.Text, t.Start, n.End);
            }
            Enter();
            var operand = UnaryExpression();
            Leave();
            return Build(new SqlExpression.Unary(t.Text, operand, t.Start, operand.End), operand);
        }
        return Postfix(Primary());
    }

    private bool IsPostfixAt(int index) => _tokens[index].IsSymbol("::") || _tokens[index].IsSymbol("[") || _tokens[index].IsSymbol(".");

    private SqlExpression Postfix(SqlExpression e)
    {
        while (true)
        {
            if (Peek.IsSymbol("::"))
            {
                _next++;
                var type = Type();
                e = Build(new SqlExpression.Cast(e, type, false, e.Start, _tokens[_next - 1].End), e);
            }
            else if (Peek.IsSymbol("["))
            {
                var bracket = Peek;
                _next++;
                Enter();
                var index = Peek.IsSymbol(":") ? null : Expression();
                if (Peek.IsSymbol(":"))
                {
                    e = Slice(e, index, bracket);
                    Leave();
                    continue;
                }
                Leave();
                ExpectSymbol("]", "']' after the list index");
                e = Build(new SqlExpression.Index(e, index!, e.Start, _tokens[_next - 1].End), e, index);
            }
            else if (Peek.IsSymbol("."))
            {
                _next++;
                var field = Name("a field name after '.'");
                e = Build(new SqlExpression.FieldAccess(e, field, e.Start, _tokens[_next - 1].End), e);
            }
            else return e;
        }
    }

    /// <summary>
    /// <c>l[begin:end]</c> or <c>l[begin:end:step]</c> after <c>l[begin</c>, DuckDB's slice of a list or a string: the
    /// call <c>array_slice(l, begin, end[, step])</c>. An omitted bound (or <c>-</c> for the end, as DuckDB writes it
    /// before a step) is the extreme position that reaches the list's first or last element, which one by the sign of
    /// the step, so the step must then be a constant.
    /// </summary>
    private SqlExpression Slice(SqlExpression list, SqlExpression? begin, Token bracket)
    {
        ExpectSymbol(":", "':' in the slice");
        SqlExpression? end = null, step = null;
        if (Peek.IsSymbol("-") && (_tokens[_next + 1].IsSymbol(":") || _tokens[_next + 1].IsSymbol("]"))) _next++;
        else if (!Peek.IsSymbol(":") && !Peek.IsSymbol("]")) end = Expression();
        if (TrySymbol(":")) step = Expression();
        ExpectSymbol("]", "']' after the slice");
        int close = _tokens[_next - 1].End;
        if (begin is null || end is null)
        {
            bool backwards;
            if (step is null) backwards = false;
            else if (step is SqlExpression.Literal { Kind: LiteralKind.Integer } s) backwards = s.Text.StartsWith('-');
            else throw new SqlException("a slice with an omitted bound takes a constant integer step (the step's sign says which end the bound is)",
                SourcePosition.At(_sql, step.Start), _sql);
            SqlExpression Extreme(bool last) => new SqlExpression.Literal(LiteralKind.Integer,
                last ? long.MaxValue.ToString(CultureInfo.InvariantCulture) : long.MinValue.ToString(CultureInfo.InvariantCulture), bracket.Start, close);
            begin ??= Extreme(backwards);
            end ??= Extreme(!backwards);
        }
        List<SqlExpression> args = step is null ? [list, begin, end] : [list, begin, end, step];
        return Build(new SqlExpression.FunctionCall(new SqlName("array_slice", false, bracket.Start), args, false, false, list.Start, close), args);
    }

    private SqlExpression Primary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Integer:
                _next++;
                return new SqlExpression.Literal(LiteralKind.Integer, t.Text, t.Start, t.End);
            case TokenKind.Decimal:
                _next++;
                return new SqlExpression.Literal(LiteralKind.Decimal, t.Text, t.Start, t.End);
            case TokenKind.String:
                _next++;
                return new SqlExpression.Literal(LiteralKind.String, t.Text, t.Start, t.End);
            case TokenKind.QuotedIdentifier:
                return ColumnReference();
            case TokenKind.End:
                throw Error("expected an expression but the statement ends here");
            case TokenKind.Symbol:
                if (t.IsSymbol("("))
                {
                    _next++;
                    if (IsWord("SELECT") || IsWord("WITH"))
                        throw Error("subqueries in expressions are not supported; use a subquery in FROM or a WITH query");
                    Enter();
                    var inner = Expression();
                    Leave();
                    ExpectSymbol(")", "')'");
                    return inner;
                }
                if (t.IsSymbol("["))
                {
                    _next++;
                    Enter();
                    var items = new List<SqlExpression>();
                    if (!Peek.IsSymbol("]"))
                        do items.Add(Expression()); while (TrySymbol(","));
                    Leave();
                    ExpectSymbol("]", "']' or ',' in the list");
                    return Build(new SqlExpression.ListValue(items, t.Start, _tokens[_next - 1].End), items);
                }
                if (t.IsSymbol("{"))
                {
                    _next++;
                    Enter();
                    var fields = new List<(string, SqlExpression)>();
                    if (!Peek.IsSymbol("}"))
                        do
                        {
                            var key = Peek;
                            if (key.Kind is not (TokenKind.String or TokenKind.Word or TokenKind.QuotedIdentifier))
                                throw Error($"expected a field name ('name': value) but found {key.Describe()}");
                            _next++;
                            ExpectSymbol(":", "':' after the field name");
                            fields.Add((key.Text, Expression()));
                        } while (TrySymbol(","));
                    Leave();
                    ExpectSymbol("}", "'}' or ',' in the struct");
                    return Build(new SqlExpression.StructValue(fields, t.Start, _tokens[_next - 1].End), fields.Select(f => f.Item2));
                }
                throw Error($"expected an expression but found {t.Describe()}");
        }
        // a word
        if (t.IsWord("NULL")) { _next++; return new SqlExpression.Literal(LiteralKind.Null, "NULL", t.Start, t.End); }
        if (t.IsWord("TRUE") || t.IsWord("FALSE")) { _next++; return new SqlExpression.Literal(LiteralKind.Boolean, t.Text.ToLowerInvariant(), t.Start, t.End); }
        if (t.IsWord("CASE")) return Case();
        if (t.IsWord("CAST") || t.IsWord("TRY_CAST"))
        {
            _next++;
            ExpectSymbol("(", $"'(' after {t.Text.ToUpperInvariant()}");
            Enter();
            var operand = Expression();
            ExpectWord("AS");
            var type = Type();
            Leave();
            ExpectSymbol(")", $"')' to close {t.Text.ToUpperInvariant()}");
            return Build(new SqlExpression.Cast(operand, type, t.IsWord("TRY_CAST"), t.Start, _tokens[_next - 1].End), operand);
        }
        var following = _tokens[_next + 1];
        if (t.IsWord("INTERVAL") && following.Kind == TokenKind.String)
        {
            _next += 2;
            string? unit = null;
            if (Peek.Kind == TokenKind.Word && IntervalUnits.Contains(Peek.Text))
            {
                unit = Peek.Text.ToLowerInvariant();
                _next++;
            }
            return new SqlExpression.IntervalLiteral(following.Text, unit, t.Start, _tokens[_next - 1].End);
        }
        // INTERVAL 5 MINUTE (DuckDB's and MySQL's spelling): a number and a unit
        if (t.IsWord("INTERVAL") && following.Kind == TokenKind.Integer && _tokens[_next + 2].Kind == TokenKind.Word && IntervalUnits.Contains(_tokens[_next + 2].Text))
        {
            _next += 3;
            return new SqlExpression.IntervalLiteral(following.Text, _tokens[_next - 1].Text.ToLowerInvariant(), t.Start, _tokens[_next - 1].End);
        }
        if (following.Kind == TokenKind.String && (t.IsWord("DATE") || t.IsWord("TIME") || t.IsWord("TIMESTAMP") || t.IsWord("TIMESTAMPTZ")))
        {
            _next += 2;
            return new SqlExpression.TypedLiteral(new TypeName(t.Text.ToUpperInvariant(), [], 0, t.Start), following.Text, t.Start, following.End);
        }
        if (t.IsWord("EXTRACT") && following.IsSymbol("("))
        {
            _next += 2;
            Enter();
            var part = Peek;
            if (part.Kind is not (TokenKind.Word or TokenKind.String))
                throw Error($"expected a date part (year, month, day, hour, ...) after EXTRACT( but found {part.Describe()}");
            _next++;
            ExpectWord("FROM");
            var operand = Expression();
            Leave();
            ExpectSymbol(")", "')' to close EXTRACT");
            var partLiteral = new SqlExpression.Literal(LiteralKind.String, part.Text.ToLowerInvariant(), part.Start, part.End);
            return Build(new SqlExpression.FunctionCall(new SqlName("date_part", false, t.Start), [partLiteral, operand], false, false, t.Start, _tokens[_next - 1].End), operand);
        }
        // LEFT and RIGHT are keywords (of joins) and functions (left(s, n)), as in DuckDB and PostgreSQL
        if ((t.IsWord("LEFT") || t.IsWord("RIGHT")) && following.IsSymbol("("))
            return FunctionCall();
        if (Reserved.Contains(t.Text))
            throw Error($"expected an expression but found the keyword {t.Text.ToUpperInvariant()}; write \"{t.Text}\" in double quotes to use it as a name");
        if (following.IsSymbol("("))
            return FunctionCall();
        return ColumnReference();
    }

    private static readonly HashSet<string> IntervalUnits = new(StringComparer.OrdinalIgnoreCase)
    {
        "year", "years", "month", "months", "week", "weeks", "day", "days", "hour", "hours", "minute", "minutes",
        "second", "seconds", "millisecond", "milliseconds", "microsecond", "microseconds",
    };

    private SqlExpression Case()
    {
        int start = Peek.Start;
        _next++;
        Enter();
        SqlExpression? operand = null;
        if (!IsWord("WHEN")) operand = Expression();
        var whens = new List<(SqlExpression, SqlExpression)>();
        while (IsWord("WHEN"))
        {
            _next++;
            Term();
            var when = Expression();
            ExpectWord("THEN");
            whens.Add((when, Expression()));
        }
        if (whens.Count == 0)
            throw Error($"expected WHEN after CASE but found {Peek.Describe()}");
        SqlExpression? otherwise = null;
        if (IsWord("ELSE")) { _next++; otherwise = Expression(); }
        ExpectWord("END");
        Leave();
        var children = new List<SqlExpression?> { operand, otherwise };
        foreach (var (w, th) in whens) { children.Add(w); children.Add(th); }
        return Build(new SqlExpression.Case(operand, whens, otherwise, start, _tokens[_next - 1].End), children);
    }

    private SqlExpression FunctionCall()
    {
        var name = ToName(Peek);
        int start = Peek.Start;
        _next += 2;
        Enter();
        var args = new List<SqlExpression>();
        List<SqlName?>? names = null;
        bool distinct = false, star = false;
        if (Peek.IsSymbol("*"))
        {
            _next++;
            star = true;
        }
        else if (!Peek.IsSymbol(")"))
        {
            if (IsWord("DISTINCT")) { _next++; distinct = true; }
            else if (IsWord("ALL")) _next++;
            do
            {
                // a named argument, name := value (struct_pack's); the binder refuses them elsewhere
                if (Peek.Kind is TokenKind.Word or TokenKind.QuotedIdentifier && _tokens[_next + 1].IsSymbol(":") && _tokens[_next + 2].IsSymbol("="))
                {
                    names ??= [.. args.Select(_ => (SqlName?)null)];
                    names.Add(ToName(Peek));
                    _next += 3;
                }
                else names?.Add(null);
                args.Add(Expression());
                if (Peek.IsSymbol(":"))
                    throw Error("a named argument is written name := value");
            } while (TrySymbol(","));
        }
        Leave();
        if (IsWord("ORDER"))
            throw Error("ORDER BY inside a function call is not supported");
        ExpectSymbol(")", $"')' or ',' in the arguments of {name.Text}");
        SqlExpression? filter = null;
        if (IsWord("FILTER") && _tokens[_next + 1].IsSymbol("("))
        {
            _next += 2;
            ExpectWord("WHERE");
            Enter();
            filter = Expression();
            Leave();
            ExpectSymbol(")", "')' after the FILTER condition");
        }
        var over = IsWord("OVER") ? Over() : null;
        return Build(new SqlExpression.FunctionCall(name, args, distinct, star, start, _tokens[_next - 1].End) { Filter = filter, ArgumentNames = names, Over = over },
            filter is null ? args : [.. args, filter]);
    }

    private SqlExpression ColumnReference()
    {
        int start = Peek.Start;
        var parts = new List<SqlName> { Name("a column name") };
        while (Peek.IsSymbol(".") && !_tokens[_next + 1].IsSymbol("*"))
        {
            _next++;
            parts.Add(Name("a field name after '.'"));
            if (parts.Count > SqlLimits.MaxDepth)
                throw Error($"a name has more than {SqlLimits.MaxDepth} parts, the limit");
        }
        return new SqlExpression.ColumnRef(parts, start, _tokens[_next - 1].End) { Height = parts.Count };
    }

    private TypeName Type()
    {
        var t = Peek;
        if (t.Kind is not (TokenKind.Word or TokenKind.QuotedIdentifier))
            throw Error($"expected a type name (INTEGER, BIGINT, DOUBLE, VARCHAR, TIMESTAMP, ...) but found {t.Describe()}");
        _next++;
        string name = t.Text.ToUpperInvariant();
        if (name == "DOUBLE" && IsWord("PRECISION")) _next++;
        if ((name is "TIMESTAMP" or "TIME") && (IsWord("WITH") || IsWord("WITHOUT")))
        {
            bool with = IsWord("WITH");
            _next++;
            ExpectWord("TIME");
            ExpectWord("ZONE");
            if (with) name += " WITH TIME ZONE";
        }
        var parameters = new List<int>();
        if (Peek.IsSymbol("("))
        {
            _next++;
            do
            {
                if (Peek.Kind != TokenKind.Integer || !int.TryParse(Peek.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p > 1_000_000)
                    throw Error($"expected a whole number as a parameter of {name} but found {Peek.Describe()}");
                parameters.Add(p);
                _next++;
            } while (TrySymbol(","));
            ExpectSymbol(")", $"')' after the parameters of {name}");
        }
        int lists = 0;
        while (Peek.IsSymbol("[") && _tokens[_next + 1].IsSymbol("]"))
        {
            _next += 2;
            if (++lists > SqlLimits.MaxDepth)
                throw Error($"a type is nested more than {SqlLimits.MaxDepth} levels deep, the limit");
        }
        return new TypeName(name, parameters, lists, t.Start);
    }

    // ---- helpers ----

    private Token Peek => _tokens[_next];

    private bool IsWord(string keyword) => Peek.IsWord(keyword);

    private void ExpectWord(string keyword)
    {
        if (!IsWord(keyword))
            throw Error($"expected {keyword} but found {Peek.Describe()}");
        _next++;
    }

    private void ExpectSymbol(string symbol, string what)
    {
        if (!Peek.IsSymbol(symbol))
            throw Error($"expected {what} but found {Peek.Describe()}");
        _next++;
    }

    private void ExpectEnd(string what)
    {
        if (Peek.Kind != TokenKind.End)
            throw Error($"expected {what} but found {Peek.Describe()}");
    }

    private bool TrySymbol(string symbol)
    {
        if (!Peek.IsSymbol(symbol)) return false;
        _next++;
        return true;
    }

    private SqlName Name(string what)
    {
        var t = Peek;
        if (t.Kind == TokenKind.QuotedIdentifier || (t.Kind == TokenKind.Word && !Reserved.Contains(t.Text)))
        {
            _next++;
            return ToName(t);
        }
        if (t.Kind == TokenKind.Word)
            throw Error($"expected {what} but found the keyword {t.Text.ToUpperInvariant()}; write \"{t.Text}\" in double quotes to use it as a name");
        throw Error($"expected {what} but found {t.Describe()}");
    }

    private static SqlName ToName(Token t) => new(t.Text, t.Kind == TokenKind.QuotedIdentifier, t.Start);

    private void Enter()
    {
        if (++_depth > SqlLimits.MaxDepth)
            throw Error($"the statement is nested more than {SqlLimits.MaxDepth} levels deep (parentheses, subqueries, calls, CASE, NOT), the limit");
    }

    private void Leave() => _depth--;

    /// <summary>One more condition, refused past <see cref="SqlLimits.MaxTerms"/>.</summary>
    private void Term()
    {
        if (++_terms > SqlLimits.MaxTerms)
            throw Error($"the statement has more than {SqlLimits.MaxTerms} conditions, the limit; filter on fewer values (or split the pipeline)");
    }

    private T Build<T>(T node, params SqlExpression?[] children) where T : SqlExpression => Build(node, (IEnumerable<SqlExpression?>)children);

    private T Build<T>(T node, IEnumerable<SqlExpression?> children) where T : SqlExpression
    {
        int height = 0;
        foreach (var c in children)
            if (c is not null && c.Height > height) height = c.Height;
        node.Height = height + 1;
        if (node.Height > SqlLimits.MaxExpressionHeight)
            throw new SqlException($"the expression is nested more than {SqlLimits.MaxExpressionHeight} levels deep (each operator in a chain such as a + b + c counts one), the limit",
                SourcePosition.At(_sql, node.Start), _sql);
        return node;
    }

    private SqlException Error(string problem) => new(problem, SourcePosition.At(_sql, Peek.Start), _sql);
}
