namespace DataPlane.SqlTransforms.Syntax;

/// <summary>
/// An expression as written, with the span of SQL text it came from (for error positions and for naming an output
/// column after its expression). Chains of AND and OR are one node holding all their terms, so such a chain makes
/// the tree wide, not deep; other operator chains count towards <see cref="SqlLimits.MaxExpressionHeight"/>.
/// </summary>
internal abstract record SqlExpression(int Start, int End)
{
    /// <summary>Levels of the tree below and including this node, set by the parser (which refuses trees past the limit).</summary>
    public int Height { get; internal set; } = 1;

    public sealed record Literal(LiteralKind Kind, string Text, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>INTERVAL '5' MINUTE</c> or <c>INTERVAL '5 minutes'</c>: the text and the unit written after it, if any.</summary>
    public sealed record IntervalLiteral(string Text, string? Unit, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>DATE '2024-01-01'</c>, <c>TIMESTAMP '...'</c>: a string literal with a type in front.</summary>
    public sealed record TypedLiteral(TypeName Type, string Text, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>a</c>, <c>t.a</c>, <c>s.f.g</c>: which parts are a table, a column or struct fields is decided when binding.</summary>
    public sealed record ColumnRef(IReadOnlyList<SqlName> Parts, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>*</c> or <c>t.*</c> in a select list (and <c>count(*)</c>).</summary>
    public sealed record Star(SqlName? Qualifier, int Start, int End) : SqlExpression(Start, End);
    public sealed record Unary(string Operator, SqlExpression Operand, int Start, int End) : SqlExpression(Start, End);
    /// <summary>Arithmetic, comparison and <c>||</c>.</summary>
    public sealed record Binary(string Operator, SqlExpression Left, SqlExpression Right, int OperatorPosition, int Start, int End) : SqlExpression(Start, End);
    public sealed record And(IReadOnlyList<SqlExpression> Terms, int Start, int End) : SqlExpression(Start, End);
    public sealed record Or(IReadOnlyList<SqlExpression> Terms, int Start, int End) : SqlExpression(Start, End);
    public sealed record Not(SqlExpression Operand, int Start, int End) : SqlExpression(Start, End);
    public sealed record IsNull(SqlExpression Operand, bool Negated, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>IS [NOT] TRUE | FALSE</c>.</summary>
    public sealed record IsBoolean(SqlExpression Operand, bool Value, bool Negated, int Start, int End) : SqlExpression(Start, End);
    public sealed record IsDistinctFrom(SqlExpression Left, SqlExpression Right, bool Negated, int Start, int End) : SqlExpression(Start, End);
    public sealed record Between(SqlExpression Operand, SqlExpression Low, SqlExpression High, bool Negated, int Start, int End) : SqlExpression(Start, End);
    public sealed record InList(SqlExpression Operand, IReadOnlyList<SqlExpression> Items, bool Negated, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>LIKE</c>, <c>ILIKE</c>, <c>SIMILAR TO</c> (which is <see cref="Similar"/>).</summary>
    public sealed record Like(SqlExpression Operand, SqlExpression Pattern, SqlExpression? Escape, bool CaseInsensitive, bool Similar, bool Negated, int Start, int End) : SqlExpression(Start, End);
    public sealed record Case(SqlExpression? Operand, IReadOnlyList<(SqlExpression When, SqlExpression Then)> Whens, SqlExpression? Else, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>CAST(x AS t)</c>, <c>x::t</c>, <c>TRY_CAST(x AS t)</c>.</summary>
    public sealed record Cast(SqlExpression Operand, TypeName Type, bool Try, int Start, int End) : SqlExpression(Start, End);
    /// <summary>A function call; <c>count(*)</c> has <see cref="IsStar"/> set and no arguments.</summary>
    public sealed record FunctionCall(SqlName Name, IReadOnlyList<SqlExpression> Arguments, bool Distinct, bool IsStar, int Start, int End) : SqlExpression(Start, End)
    {
        /// <summary>An aggregate's FILTER (WHERE condition).</summary>
        public SqlExpression? Filter { get; init; }
        /// <summary>The names of named arguments (<c>struct_pack(a := 1)</c>), null for positional ones; null when none is named.</summary>
        public IReadOnlyList<SqlName?>? ArgumentNames { get; init; }
        /// <summary>A window function's <c>OVER (PARTITION BY ... ORDER BY ...)</c>: <c>row_number() OVER (...)</c>.</summary>
        public OverClause? Over { get; init; }
    }
    /// <summary><c>(expr).field</c>: field access on something that is not a plain name.</summary>
    public sealed record FieldAccess(SqlExpression Operand, SqlName Field, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>list[i]</c>, 1-based.</summary>
    public sealed record Index(SqlExpression Operand, SqlExpression Position, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>[a, b, c]</c>.</summary>
    public sealed record ListValue(IReadOnlyList<SqlExpression> Items, int Start, int End) : SqlExpression(Start, End);
    /// <summary><c>{'a': 1, 'b': x}</c>.</summary>
    public sealed record StructValue(IReadOnlyList<(string Name, SqlExpression Value)> Fields, int Start, int End) : SqlExpression(Start, End);
}

internal enum LiteralKind { Integer, Decimal, String, Boolean, Null }
