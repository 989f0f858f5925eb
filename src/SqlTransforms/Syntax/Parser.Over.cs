namespace DataPlane.SqlTransforms.Syntax;

/// <summary>ORDER BY items, and the OVER clause of window functions, which holds them too.</summary>
internal sealed partial class Parser
{
    /// <summary>One ORDER BY item: an expression, ASC or DESC, NULLS FIRST or LAST.</summary>
    private OrderItem OrderItem()
    {
        var e = Expression();
        bool descending = false;
        if (IsWord("ASC")) _next++;
        else if (IsWord("DESC")) { _next++; descending = true; }
        bool? nullsFirst = null;
        if (IsWord("NULLS"))
        {
            _next++;
            if (IsWord("FIRST")) { _next++; nullsFirst = true; }
            else if (IsWord("LAST")) { _next++; nullsFirst = false; }
            else throw Error($"expected FIRST or LAST after NULLS but found {Peek.Describe()}");
        }
        return new OrderItem(e, descending, nullsFirst);
    }

    /// <summary><c>OVER (PARTITION BY ... ORDER BY ...)</c>, after a function call.</summary>
    private OverClause Over()
    {
        int start = Peek.Start;
        _next++;
        if (!Peek.IsSymbol("("))
            throw Error($"expected '(' after OVER but found {Peek.Describe()}: named windows (OVER w, WINDOW w AS ...) are not supported; write OVER (PARTITION BY ... ORDER BY ...)");
        _next++;
        Enter();
        var partitionBy = new List<SqlExpression>();
        var orderBy = new List<OrderItem>();
        if (IsWord("PARTITION"))
        {
            _next++;
            ExpectWord("BY");
            do partitionBy.Add(Expression()); while (TrySymbol(","));
        }
        if (IsWord("ORDER"))
        {
            _next++;
            ExpectWord("BY");
            do orderBy.Add(OrderItem()); while (TrySymbol(","));
        }
        if (IsWord("ROWS") || IsWord("RANGE") || IsWord("GROUPS"))
            throw Error($"window frames ({Peek.Text.ToUpperInvariant()} ...) are not supported: the window functions here (row_number, rank, dense_rank) number the rows of their partition");
        Leave();
        ExpectSymbol(")", "')' after the OVER clause (PARTITION BY ... ORDER BY ...)");
        return new OverClause(partitionBy, orderBy, start, _tokens[_next - 1].End);
    }
}
