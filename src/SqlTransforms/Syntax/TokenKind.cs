namespace DataPlane.SqlTransforms.Syntax;

internal enum TokenKind
{
    /// <summary>A word: a keyword or an unquoted identifier (the parser decides which by context).</summary>
    Word,
    /// <summary>A "double-quoted" identifier: never a keyword, matched exactly.</summary>
    QuotedIdentifier,
    Integer,
    /// <summary>A number with a fraction or an exponent.</summary>
    Decimal,
    String,
    Symbol,
    End,
}
