namespace DataPlane.SqlTransforms.Syntax;

/// <summary>A query: a SELECT, a UNION ALL of queries, or either with WITH, ORDER BY and LIMIT around it.</summary>
internal abstract record QueryExpression(int Start)
{
    public sealed record Select(
        bool Distinct,
        IReadOnlyList<SelectItem> Items,
        TableReference? From,
        SqlExpression? Where,
        IReadOnlyList<SqlExpression> GroupBy,
        SqlExpression? Having,
        int Start) : QueryExpression(Start)
    {
        /// <summary>Where GROUP BY was written (for the streaming refusal), or -1.</summary>
        public int GroupByPosition { get; init; } = -1;
    }

    /// <summary>UNION ALL of two or more queries: one wide node, however many are chained.</summary>
    public sealed record UnionAll(IReadOnlyList<QueryExpression> Inputs, int Start) : QueryExpression(Start);

    /// <summary>WITH, ORDER BY, LIMIT and OFFSET around a query body.</summary>
    public sealed record Query(
        IReadOnlyList<CommonTableExpression> With,
        QueryExpression Body,
        IReadOnlyList<OrderItem> OrderBy,
        SqlExpression? Limit,
        SqlExpression? Offset,
        int Start) : QueryExpression(Start);
}

/// <summary>One item of a select list: an expression (or a star) and its alias.</summary>
internal sealed record SelectItem(SqlExpression Expression, SqlName? Alias);

internal sealed record CommonTableExpression(SqlName Name, QueryExpression Query);

internal sealed record OrderItem(SqlExpression Expression, bool Descending, bool? NullsFirst);

/// <summary>What FROM names: a stream or a CTE, or a subquery; both with an optional alias.</summary>
internal abstract record TableReference(SqlName? Alias, int Start)
{
    /// <summary>A stream or CTE (<see cref="Qualifiers"/> empty), or a lookup join's table (<c>namespace.table</c>, <c>db.name.table</c>): <see cref="Name"/> is the last part.</summary>
    public sealed record Named(SqlName Name, SqlName? Alias, int Start) : TableReference(Alias, Start)
    {
        public IReadOnlyList<SqlName> Qualifiers { get; init; } = [];

        /// <summary>The parts joined by dots, as the table is known to its catalog or database.</summary>
        public string QualifiedName => string.Join('.', Qualifiers.Append(Name).Select(n => n.Text));
    }
    public sealed record Subquery(QueryExpression Query, SqlName? Alias, int Start) : TableReference(Alias, Start);
}
