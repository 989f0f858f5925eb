using System.Text;
using DataPlane.SqlTransforms.Diagnostics;

namespace DataPlane.SqlTransforms.Syntax;

/// <summary>
/// Splits SQL text into tokens: words, "quoted identifiers", 'strings' ('' escapes a quote), numbers, symbols;
/// skips whitespace, <c>-- line</c> and <c>/* block */</c> comments. One pass, no backtracking.
/// </summary>
internal static class Lexer
{
    private static readonly string[] TwoCharSymbols = ["<=", ">=", "<>", "!=", "||", "::", "->", "//", "=="];

    public static List<Token> Tokenize(string sql)
    {
        var tokens = new List<Token>(Math.Min(sql.Length / 3 + 4, 16_384));
        int i = 0;
        while (i < sql.Length)
        {
            char c = sql[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                continue;
            }
            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int close = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0) throw Error(sql, start, "the comment starting here is not closed with */");
                i = close + 2;
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$')) i++;
                tokens.Add(new Token(TokenKind.Word, sql[start..i], start, i));
            }
            else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < sql.Length && char.IsAsciiDigit(sql[i + 1])))
            {
                bool fraction = false;
                while (i < sql.Length && char.IsAsciiDigit(sql[i])) i++;
                if (i < sql.Length && sql[i] == '.' && !(i + 1 < sql.Length && sql[i + 1] == '.'))
                {
                    fraction = true;
                    i++;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i])) i++;
                }
                if (i < sql.Length && sql[i] is 'e' or 'E')
                {
                    int mark = i++;
                    if (i < sql.Length && sql[i] is '+' or '-') i++;
                    if (i < sql.Length && char.IsAsciiDigit(sql[i]))
                    {
                        fraction = true;
                        while (i < sql.Length && char.IsAsciiDigit(sql[i])) i++;
                    }
                    else i = mark;
                }
                if (i < sql.Length && (char.IsLetter(sql[i]) || sql[i] == '_'))
                    throw Error(sql, start, $"'{sql[start..Math.Min(sql.Length, i + 1)]}' is not a number; a name cannot start with a digit unless it is \"quoted\"");
                tokens.Add(new Token(fraction ? TokenKind.Decimal : TokenKind.Integer, sql[start..i], start, i));
            }
            else if (c is '\'' or '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= sql.Length)
                        throw Error(sql, start, $"the {(c == '"' ? "quoted identifier" : "string")} starting here is not closed with {c}");
                    if (sql[i] == c)
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == c) { text.Append(c); i += 2; continue; }
                        i++;
                        break;
                    }
                    text.Append(sql[i++]);
                }
                if (c == '"' && text.Length == 0)
                    throw Error(sql, start, "a quoted identifier cannot be empty");
                tokens.Add(new Token(c == '"' ? TokenKind.QuotedIdentifier : TokenKind.String, text.ToString(), start, i));
            }
            else
            {
                string? symbol = null;
                if (i + 1 < sql.Length)
                {
                    // ->> is the only three-character symbol
                    if (c == '-' && sql[i + 1] == '>' && i + 2 < sql.Length && sql[i + 2] == '>') symbol = "->>";
                    else
                        foreach (var two in TwoCharSymbols)
                            if (c == two[0] && sql[i + 1] == two[1]) { symbol = two; break; }
                }
                if (symbol is null)
                {
                    if ("+-*/%(),.;[]=<>:{}".IndexOf(c) < 0)
                        throw Error(sql, start, $"unexpected character '{c}'");
                    symbol = c.ToString();
                }
                i += symbol.Length;
                tokens.Add(new Token(TokenKind.Symbol, symbol, start, i));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", sql.Length, sql.Length));
        return tokens;
    }

    private static SqlException Error(string sql, int offset, string problem) => new(problem, SourcePosition.At(sql, offset), sql);
}
