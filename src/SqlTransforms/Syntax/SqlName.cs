namespace DataPlane.SqlTransforms.Syntax;

/// <summary>
/// An identifier as written. Unquoted names match case-insensitively (an exact match wins), "quoted" ones exactly,
/// as DuckDB resolves them.
/// </summary>
internal sealed record SqlName(string Text, bool Quoted, int Position)
{
    public bool Matches(string name) =>
        Quoted ? string.Equals(Text, name, StringComparison.Ordinal) : string.Equals(Text, name, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Quoted ? "\"" + Text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : Text;
}
