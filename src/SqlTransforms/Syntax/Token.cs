namespace DataPlane.SqlTransforms.Syntax;

/// <summary>One token: its kind, its text (a string's or quoted identifier's value, unescaped) and where it starts and ends.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Start, int End)
{
    public bool IsWord(string keyword) => Kind == TokenKind.Word && Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);
    public bool IsSymbol(string symbol) => Kind == TokenKind.Symbol && Text == symbol;

    /// <summary>How a message names the token.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.End => "the end of the statement",
        TokenKind.String => $"'{Shorten(Text)}'",
        TokenKind.QuotedIdentifier => $"\"{Shorten(Text)}\"",
        _ => $"'{Shorten(Text)}'",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
