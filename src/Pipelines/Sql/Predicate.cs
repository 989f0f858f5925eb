namespace DataPlane.Pipelines.Sql;

/// <summary>
/// A WHERE clause: comparisons of a column with a literal, IS [NOT] NULL, joined by AND / OR, NOT, parentheses.
/// A chain of ANDs (or ORs) is one node holding all its terms, so a long chain makes the tree wide, not deep: its
/// depth is the statement's nesting, which <see cref="PipelineSqlParser.MaxDepth"/> bounds, and code walking it
/// recursively cannot run out of stack.
/// </summary>
internal abstract record Predicate
{
    public sealed record Compare(string Column, string Operator, object Literal) : Predicate;
    public sealed record IsNull(string Column, bool Negated) : Predicate;
    public sealed record And(IReadOnlyList<Predicate> Terms) : Predicate;
    public sealed record Or(IReadOnlyList<Predicate> Terms) : Predicate;
    public sealed record Not(Predicate Inner) : Predicate;
}
