using System.Text;
using System.Text.RegularExpressions;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// A regular expression in RE2's syntax (DuckDB's) run by .NET's non-backtracking engine, whose time is linear in
/// the input whatever the pattern (no catastrophic backtracking), with <see cref="SqlLimits.RegexMatchTimeout"/> on
/// top. RE2 has no backreferences or lookarounds, and neither does that engine: a pattern using them is refused.
/// The translation keeps RE2's meaning where .NET's differs: \d \w \s and the POSIX classes are ASCII, $ is only the
/// end of the text, (?P&lt;name&gt;) names a group, \Q...\E quotes, \pL is \p{L}.
/// </summary>
internal static class RegexPattern
{
    /// <summary>DuckDB's option letters: c case-sensitive, i insensitive, s dot matches a line break, m n p newline-sensitive (the default), l literal, g global (regexp_replace only).</summary>
    public const string OptionLetters = "cisgmnpl";

    /// <summary>Parses DuckDB's option string; null with a message when a letter is not one.</summary>
    public static (RegexOptions Options, bool Global, bool Literal)? Options(string text, bool allowGlobal, out string? error)
    {
        var options = RegexOptions.None;
        bool global = false, literal = false;
        error = null;
        foreach (char c in text)
        {
            switch (c)
            {
                case 'c': options &= ~RegexOptions.IgnoreCase; break;
                case 'i': options |= RegexOptions.IgnoreCase; break;
                case 's': options |= RegexOptions.Singleline; break;
                case 'm' or 'n' or 'p': options &= ~RegexOptions.Singleline; break;
                case 'l': literal = true; break;
                case 'g' when allowGlobal: global = true; break;
                case 'g': error = "option 'g' (global replace) is only valid for regexp_replace"; return null;
                default: error = $"unrecognized regex option '{c}'; the options are the letters {OptionLetters}"; return null;
            }
        }
        return (options, global, literal);
    }

    /// <summary>Compiles <paramref name="pattern"/>; null with the reason when it is not a pattern this engine runs.</summary>
    public static Regex? Compile(string pattern, RegexOptions options, bool literal, bool full, out string? error)
    {
        error = null;
        string translated = literal ? Regex.Escape(pattern) : Translate(pattern, (options & RegexOptions.Singleline) != 0, out error);
        if (error is not null) return null;
        if (full) translated = @"\A(?:" + translated + @")\z";
        try
        {
            return new Regex(translated, options | RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, SqlLimits.RegexMatchTimeout);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // .NET's text names the construct ("Invalid pattern 'a(' at offset 2. Not enough )'s."); NotSupported is a lookaround, a backreference or a pattern too large
            error = $"invalid regular expression '{pattern}': " + (e is NotSupportedException
                ? "lookarounds, backreferences, atomic groups and conditionals are not supported (RE2 has none either)"
                : e.Message.Replace($"Invalid pattern '{translated}' at offset", "at offset", StringComparison.Ordinal));
            return null;
        }
    }

    private static readonly Dictionary<string, string> PosixClasses = new()
    {
        ["alpha"] = "a-zA-Z", ["digit"] = "0-9", ["alnum"] = "0-9A-Za-z", ["upper"] = "A-Z", ["lower"] = "a-z",
        ["space"] = @"\t\n\v\f\r ", ["blank"] = @"\t ", ["punct"] = @"!-/:-@\[-`{-~", ["xdigit"] = "0-9A-Fa-f",
        ["word"] = "0-9A-Za-z_", ["cntrl"] = @"\x00-\x1F\x7F", ["print"] = @"\x20-\x7E", ["graph"] = @"\x21-\x7E", ["ascii"] = @"\x00-\x7F",
    };

    /// <summary>A code point outside the BMP (a surrogate pair); RE2 reads code points, .NET UTF-16 units, so '.' and negated classes try it first.</summary>
    private const string Pair = @"[\uD800-\uDBFF][\uDC00-\uDFFF]";
    /// <summary>Either half of a surrogate pair, which alone is no code point: '.' and negated classes never take one.</summary>
    private const string Halves = @"\uD800-\uDFFF";

    /// <summary>RE2 syntax to .NET's; <paramref name="error"/> set for what RE2 refuses and .NET would read otherwise.</summary>
    internal static string Translate(string p, bool dotAll, out string? error)
    {
        error = null;
        var b = new StringBuilder(p.Length + 16);
        // the class being read: where it starts in b, whether negated, its code points outside the BMP (kept out of the class)
        int classStart = -1;
        bool negated = false;
        var astral = new List<string>();
        // (?m) in the pattern makes $ a line end again: then it is left to .NET (which matches before every \n, as RE2's multi-line mode does)
        bool multiline = Regex.IsMatch(p, @"\(\?[a-zA-Z]*m");
        // (?s) lets '.' take a line break, as option 's' does
        dotAll |= Regex.IsMatch(p, @"\(\?[a-zA-Z]*s");
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            bool inClass = classStart >= 0;
            if (c == '\\' && i + 1 < p.Length)
            {
                char e = p[++i];
                switch (e)
                {
                    case 'd': b.Append(inClass ? "0-9" : "[0-9]"); break;
                    case 'w': b.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]"); break;
                    case 's': b.Append(inClass ? @"\t\n\f\r " : @"[\t\n\f\r ]"); break;
                    case 'D' when !inClass: b.Append($"(?:{Pair}|[^0-9{Halves}])"); break;
                    case 'W' when !inClass: b.Append($"(?:{Pair}|[^0-9A-Za-z_{Halves}])"); break;
                    case 'S' when !inClass: b.Append($@"(?:{Pair}|[^\t\n\f\r {Halves}])"); break;
                    case 'p' or 'P' when i + 1 < p.Length && p[i + 1] != '{':
                        b.Append('\\').Append(e).Append('{').Append(p[++i]).Append('}');
                        break;
                    case 'Q' when !inClass:
                    {
                        int end = p.IndexOf(@"\E", i + 1, StringComparison.Ordinal);
                        string quoted = end < 0 ? p[(i + 1)..] : p[(i + 1)..end];
                        b.Append("(?:").Append(Regex.Escape(quoted)).Append(')');
                        i = end < 0 ? p.Length : end + 1;
                        break;
                    }
                    case 'C': error = $"invalid regular expression '{p}': \\C (any byte) is not supported"; return "";
                    case >= '1' and <= '9': error = $"invalid regular expression '{p}': backreferences (\\{e}) are not supported (RE2 has none either)"; return "";
                    default: b.Append('\\').Append(e); break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == '[' && i + 1 < p.Length && p[i + 1] == ':')
                {
                    int end = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        string name = p[(i + 2)..end];
                        if (!PosixClasses.TryGetValue(name, out var ranges))
                        {
                            error = $"invalid regular expression '{p}': [:{name}:] is not a character class this engine knows";
                            return "";
                        }
                        b.Append(ranges);
                        i = end + 1;
                        continue;
                    }
                }
                if (c == '[') { b.Append(@"\["); continue; } // a literal [ inside a class (.NET would read [a-[b]] as subtraction)
                if (char.IsHighSurrogate(c) && i + 1 < p.Length && char.IsLowSurrogate(p[i + 1]) && !(i + 2 < p.Length && p[i + 2] == '-') && p[i - 1] != '-')
                {
                    astral.Add(p.Substring(i, 2));
                    i++;
                    continue;
                }
                if (c == ']' && !ClassJustOpened(p, i))
                {
                    b.Append(c);
                    CloseClass(b, classStart, negated, astral);
                    classStart = -1;
                    continue;
                }
                b.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    classStart = b.Length;
                    negated = i + 1 < p.Length && p[i + 1] == '^';
                    astral.Clear();
                    b.Append(c);
                    break;
                case '.': b.Append($"(?:{Pair}|[^{(dotAll ? "" : @"\n")}{Halves}])"); break;
                case '$' when !multiline: b.Append(@"\z"); break;
                case '(' when p.AsSpan(i).StartsWith("(?P<"): b.Append("(?<"); i += 3; break;
                case var h when char.IsHighSurrogate(h) && i + 1 < p.Length && char.IsLowSurrogate(p[i + 1]):
                    b.Append("(?:").Append(h).Append(p[++i]).Append(')'); // so that a quantifier after it repeats the whole code point
                    break;
                default: b.Append(c); break;
            }
        }
        return b.ToString();
    }

    /// <summary>
    /// A negated class also matches a whole surrogate pair; a class with code points outside the BMP matches them as
    /// alternatives (in .NET's class they would be two separate UTF-16 units).
    /// </summary>
    private static void CloseClass(StringBuilder b, int start, bool negated, List<string> astral)
    {
        if (!negated && astral.Count == 0) return;
        string cls = b.ToString(start, b.Length - start);
        b.Length = start;
        b.Append("(?:");
        if (negated) { b.Append(Pair).Append('|'); cls = cls[..^1] + Halves + "]"; } // a negated class with astral members leaves them matched: rare, and documented
        foreach (var a in astral) b.Append(a).Append('|');
        if (cls is "[]" or "[^]") b.Length--; // only astral members
        else b.Append(cls);
        b.Append(')');
    }

    /// <summary>Whether the ] at <paramref name="i"/> is the first character of its class ([]a] or [^]a]), so a literal.</summary>
    private static bool ClassJustOpened(string p, int i) =>
        (i >= 1 && p[i - 1] == '[' && (i < 2 || p[i - 2] != '\\')) || (i >= 2 && p[i - 1] == '^' && p[i - 2] == '[');
}
