namespace DataPlane.Pipelines.Sql;

/// <summary>A WHERE clause: comparisons of a column with a literal, IS [NOT] NULL, joined by AND / OR, NOT, parentheses.</summary>
internal abstract record Predicate
{
    public sealed record Compare(string Column, string Operator, object Literal) : Predicate;
    public sealed record IsNull(string Column, bool Negated) : Predicate;
    public sealed record And(Predicate Left, Predicate Right) : Predicate;
    public sealed record Or(Predicate Left, Predicate Right) : Predicate;
    public sealed record Not(Predicate Inner) : Predicate;

    public IEnumerable<string> Columns() => this switch
    {
        Compare c => [c.Column],
        IsNull n => [n.Column],
        And a => a.Left.Columns().Concat(a.Right.Columns()),
        Or o => o.Left.Columns().Concat(o.Right.Columns()),
        Not n => n.Inner.Columns(),
        _ => [],
    };
}
