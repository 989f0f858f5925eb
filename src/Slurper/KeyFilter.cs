using System.Text;
using System.Text.RegularExpressions;

namespace DataPlane.Slurper;

/// <summary>
/// Include/exclude globs over keys relative to the source prefix: <c>*</c> and <c>?</c> stay within one
/// '/'-separated segment, <c>**</c> crosses segments, <c>[abc]</c> is a character class.
/// A key is copied when it matches some include (or there are none) and no exclude.
/// </summary>
internal sealed class KeyFilter
{
    readonly Regex[] includes;
    readonly Regex[] excludes;

    public KeyFilter(IEnumerable<string> include, IEnumerable<string> exclude)
    {
        includes = include.Select(ToRegex).ToArray();
        excludes = exclude.Select(ToRegex).ToArray();
    }

    public bool IsEmpty => includes.Length == 0 && excludes.Length == 0;

    public bool Accepts(string key)
    {
        if (includes.Length > 0 && !includes.Any(r => r.IsMatch(key))) return false;
        return !excludes.Any(r => r.IsMatch(key));
    }

    internal static Regex ToRegex(string glob)
    {
        if (string.IsNullOrEmpty(glob)) throw new ArgumentException("An include/exclude glob is empty; use e.g. '**/*.parquet'.");
        var sb = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '*' when i + 1 < glob.Length && glob[i + 1] == '*':
                    i++;
                    // "**/" also matches no directory at all, so "**/*.csv" takes "a.csv".
                    if (i + 1 < glob.Length && glob[i + 1] == '/') { i++; sb.Append("(?:.*/)?"); }
                    else sb.Append(".*");
                    break;
                case '*': sb.Append("[^/]*"); break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                    var close = glob.IndexOf(']', i + 1);
                    if (close < 0) throw new ArgumentException($"Glob '{glob}' has '[' at {i} without a closing ']'.");
                    var cls = glob[(i + 1)..close];
                    sb.Append('[').Append(cls.StartsWith('!') ? "^" + Regex.Escape(cls[1..]) : Regex.Escape(cls)).Append(']');
                    i = close;
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }
}
