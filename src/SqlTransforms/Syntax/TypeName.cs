namespace DataPlane.SqlTransforms.Syntax;

/// <summary>A type as written in CAST or <c>::</c>: its name (several words for TIMESTAMP WITH TIME ZONE), parameters and list suffixes.</summary>
internal sealed record TypeName(string Name, IReadOnlyList<int> Parameters, int ListDepth, int Position)
{
    public override string ToString() =>
        Name + (Parameters.Count > 0 ? "(" + string.Join(",", Parameters) + ")" : "") + string.Concat(Enumerable.Repeat("[]", ListDepth));
}
