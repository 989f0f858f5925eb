// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using System.Text;
using System.Text.RegularExpressions;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// regexp_matches, regexp_full_match, regexp_replace, regexp_extract (and SIMILAR TO, which is regexp_full_match) with
/// DuckDB's arguments and RE2's syntax (<see cref="RegexPattern"/>). A constant pattern is compiled once when the
/// query binds, and an invalid one is a SQL error there; a pattern from a column is compiled when it changes (the
/// last few kept), and an invalid one fails the record. Every match is bounded in time.
/// </summary>
internal static class RegexFunctions
{
    public static readonly RowErrorReason InvalidPattern = new("invalid_regex", "a regular expression from a column that is not a valid pattern");
    public static readonly RowErrorReason Timeout = new("regex_timeout", "a regular expression match that took longer than the limit");

    private enum Kind { Matches, FullMatch, Replace, Extract }

    public static void Register(FunctionRegistry r)
    {
        r.Add(new ScalarFunction("regexp_matches", "regex", "regexp_matches(s, pattern[, options]): whether pattern matches somewhere in s",
            resolver: a => Bind(a, Kind.Matches), signatures: "regexp_matches(VARCHAR, VARCHAR[, options]) -> BOOLEAN"));
        r.Add(new ScalarFunction("regexp_full_match", "regex", "regexp_full_match(s, pattern[, options]): whether pattern matches all of s",
            resolver: a => Bind(a, Kind.FullMatch), signatures: "regexp_full_match(VARCHAR, VARCHAR[, options]) -> BOOLEAN"));
        r.Add(new ScalarFunction("regexp_replace", "regex", "regexp_replace(s, pattern, replacement[, options]): the first match (every match with option 'g') replaced; \\1 to \\9 in the replacement are groups, \\0 the match",
            resolver: a => Bind(a, Kind.Replace), signatures: "regexp_replace(VARCHAR, VARCHAR, VARCHAR[, options]) -> VARCHAR"));
        r.Add(new ScalarFunction("regexp_extract", "regex", "regexp_extract(s, pattern[, group[, options]]): the first match's group (0, the whole match, by default); '' when there is none",
            resolver: a => Bind(a, Kind.Extract), signatures: "regexp_extract(VARCHAR, VARCHAR[, group 0-9[, options]]) -> VARCHAR"));
    }

    private static FunctionBinding? Bind(IReadOnlyList<ArgumentInfo> args, Kind kind)
    {
        int texts = kind == Kind.Replace ? 3 : 2; // s, pattern (and replacement)
        int max = texts + (kind == Kind.Extract ? 2 : 1);
        if (args.Count < texts || args.Count > max) return null;
        for (int i = 0; i < texts; i++)
            if (ScalarFunction.ConversionCost(args[i], SqlType.Varchar) == int.MaxValue) return null;
        int group = 0;
        string optionText = "";
        int optionsAt = kind == Kind.Extract ? 3 : texts;
        if (kind == Kind.Extract && args.Count > 2)
        {
            long? g = args[2].ConstantValue switch { int i => i, long l => l, _ => null };
            if (!args[2].IsConstant || g is not (>= 0 and <= 9))
                throw new ArgumentRefusedException(2, "regexp_extract's group must be a constant integer from 0 to 9");
            group = (int)g.Value;
        }
        if (args.Count > optionsAt)
        {
            if (!args[optionsAt].IsConstant || args[optionsAt].ConstantValue is not string o)
                throw new ArgumentRefusedException(optionsAt, "regular expression options must be a constant string (letters of " + RegexPattern.OptionLetters + ")");
            optionText = o;
        }
        var options = RegexPattern.Options(optionText, kind == Kind.Replace, out var optionError)
            ?? throw new ArgumentRefusedException(optionsAt, optionError!);
        Regex? fixedRegex = null;
        if (args[1].IsConstant && args[1].ConstantValue is string pattern)
            fixedRegex = RegexPattern.Compile(pattern, options.Options, options.Literal, kind == Kind.FullMatch, out var error)
                ?? throw new ArgumentRefusedException(1, error!);
        var parameters = Enumerable.Repeat(SqlType.Varchar, texts).Concat(args.Skip(texts).Select(a => a.Type)).ToList();
        var spec = new RegexSpec(fixedRegex, options.Options, options.Literal, kind == Kind.FullMatch);
        return kind switch
        {
            Kind.Matches or Kind.FullMatch => new FunctionBinding(parameters, SqlType.Boolean, (k, t) => new RowKernel<bool, Matches>(k.Take(2).ToList(), t, new Matches(new RegexRunner(spec)))),
            Kind.Replace => new FunctionBinding(parameters, SqlType.Varchar, (k, t) => new StringRowKernel<Replace>(k.Take(3).ToList(), t, new Replace(new RegexRunner(spec), options.Global))),
            _ => new FunctionBinding(parameters, SqlType.Varchar, (k, t) => new StringRowKernel<Extract>(k.Take(2).ToList(), t, new Extract(new RegexRunner(spec), group))),
        };
    }

    private sealed record RegexSpec(Regex? Fixed, RegexOptions Options, bool Literal, bool Full);

    /// <summary>
    /// One kernel's regular expressions and text buffer: the constant pattern's, or the last few patterns read from a
    /// column; each value decoded once into a char buffer kept across rows (.NET's engine reads UTF-16).
    /// </summary>
    private sealed class RegexRunner(RegexSpec spec)
    {
        private readonly int _fixedGroups = spec.Fixed is null ? 0 : spec.Fixed.GetGroupNumbers().Length - 1;
        private const int CachedPatterns = 16;
        private readonly Dictionary<string, Regex?> _compiled = new();
        private byte[] _lastPattern = [];
        private Regex? _last;
        private int _lastGroups;
        /// <summary>How many groups the regular expression <see cref="For"/> last returned has (not counting the whole match).</summary>
        public int Groups;
        private char[] _chars = new char[256];
        public string? Failure;
        public RowErrorReason Reason = InvalidPattern;

        public Regex? For(BinaryArray patterns, int row)
        {
            if (spec.Fixed is not null) { Groups = _fixedGroups; return spec.Fixed; }
            var bytes = patterns.GetBytes(row);
            if (_last is not null && bytes.SequenceEqual(_lastPattern)) { Groups = _lastGroups; return _last; }
            var text = Encoding.UTF8.GetString(bytes);
            if (!_compiled.TryGetValue(text, out var regex))
            {
                regex = RegexPattern.Compile(text, spec.Options, spec.Literal, spec.Full, out var error);
                if (_compiled.Count >= CachedPatterns) _compiled.Clear();
                _compiled[text] = regex;
                if (regex is null) { Failure = error; Reason = InvalidPattern; return null; }
            }
            if (regex is null) { Failure = $"invalid regular expression '{text}'"; Reason = InvalidPattern; return null; }
            _last = regex;
            _lastPattern = bytes.ToArray();
            Groups = _lastGroups = regex.GetGroupNumbers().Length - 1;
            return regex;
        }

        public ReadOnlySpan<char> Decode(ReadOnlySpan<byte> utf8)
        {
            if (_chars.Length < utf8.Length) _chars = new char[Math.Max(utf8.Length, _chars.Length * 2)];
            return _chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, _chars));
        }

        public bool TimedOut(string function)
        {
            Failure = $"{function} took longer than {SqlLimits.RegexMatchTimeout.TotalSeconds:0.###} s on one value";
            Reason = Timeout;
            return false;
        }
    }

    /// <summary>Writes UTF-16 as UTF-8 into the column.</summary>
    private static void Write(ReadOnlySpan<char> text, Utf8Builder output) =>
        output.Commit(Encoding.UTF8.GetBytes(text, output.Reserve(Encoding.UTF8.GetByteCount(text))));

    private struct Matches : IRowFunction<bool>
    {
        private readonly RegexRunner _runner;
        private BinaryArray _s, _pattern;
        public Matches(RegexRunner runner) => _runner = runner;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _pattern = (BinaryArray)args[1]; }
        public readonly bool Apply(int row, out bool value)
        {
            value = false;
            var regex = _runner.For(_pattern, row);
            if (regex is null) return false;
            try { value = regex.IsMatch(_runner.Decode(_s.GetBytes(row))); return true; }
            catch (RegexMatchTimeoutException) { return _runner.TimedOut("regexp_matches"); }
        }
        public readonly RowErrorReason Reason => _runner.Reason;
        public readonly string Describe(int row) => _runner.Failure ?? "";
    }

    private struct Extract : IStringRowFunction
    {
        private readonly RegexRunner _runner;
        private readonly int _group;
        private BinaryArray _s, _pattern;
        public Extract(RegexRunner runner, int group) { _runner = runner; _group = group; }
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _pattern = (BinaryArray)args[1]; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var regex = _runner.For(_pattern, row);
            if (regex is null) return false;
            var text = _runner.Decode(_s.GetBytes(row));
            try
            {
                if (_group == 0)
                {
                    foreach (var m in regex.EnumerateMatches(text)) { RegexFunctions.Write(text.Slice(m.Index, m.Length), output); return true; }
                    output.Append([]);
                    return true;
                }
                // a group's bounds come only from a Match, which .NET reads from a string: one string for this row
                var match = regex.Match(text.ToString());
                var g = match.Success && _group < match.Groups.Count ? match.Groups[_group] : null;
                if (g is { Success: true }) RegexFunctions.Write(g.ValueSpan, output);
                else output.Append([]);
                return true;
            }
            catch (RegexMatchTimeoutException) { return _runner.TimedOut("regexp_extract"); }
        }
        public readonly RowErrorReason Reason => _runner.Reason;
        public readonly string Describe(int row) => _runner.Failure ?? "";
    }

    /// <summary>
    /// regexp_replace with RE2's rewrite rules: \0 to \9 are the match and its groups, \\ a backslash, anything else
    /// as written; a rewrite that names a group the pattern does not have, or ends in a lone \, replaces nothing (DuckDB).
    /// </summary>
    private struct Replace : IStringRowFunction
    {
        private readonly RegexRunner _runner;
        private readonly bool _global;
        private BinaryArray _s, _pattern, _replacement;
        private char[] _result;
        public Replace(RegexRunner runner, bool global) { _runner = runner; _global = global; _result = new char[256]; }
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _pattern = (BinaryArray)args[1]; _replacement = (BinaryArray)args[2]; }

        public bool Write(int row, Utf8Builder output)
        {
            var regex = _runner.For(_pattern, row);
            if (regex is null) return false;
            var source = _s.GetBytes(row);
            // the rewrite as UTF-16, after the text in the runner's buffer (decoded second so the text's span stays valid)
            var rewriteBytes = _replacement.GetBytes(row);
            Span<char> rewriteChars = rewriteBytes.Length <= 256 ? stackalloc char[256] : new char[rewriteBytes.Length];
            var rewrite = rewriteChars[..Encoding.UTF8.GetChars(rewriteBytes, rewriteChars)];
            int highest = HighestGroup(rewrite);
            if (highest < 0 || highest > _runner.Groups) { output.Append(source); return true; }
            var text = _runner.Decode(source);
            int length = 0;
            try
            {
                int at = 0;
                if (highest == 0)
                {
                    foreach (var m in regex.EnumerateMatches(text))
                    {
                        // RE2 takes no empty match where the last match ended, nor inside a code point
                        if (m.Length == 0 && (m.Index == at && at > 0 || InsidePair(text, m.Index))) continue;
                        if (!Add(text[at..m.Index], ref length) || !Rewrite(rewrite, text.Slice(m.Index, m.Length), null, ref length)) return false;
                        at = m.Index + m.Length;
                        if (!_global) break;
                    }
                }
                else
                {
                    // groups come only from a Match, which .NET reads from a string: one string for this row
                    for (var m = regex.Match(text.ToString()); m.Success; m = m.NextMatch())
                    {
                        // RE2 takes no empty match where the last match ended, nor inside a code point
                        if (m.Length == 0 && (m.Index == at && at > 0 || InsidePair(text, m.Index))) continue;
                        if (!Add(text[at..m.Index], ref length) || !Rewrite(rewrite, m.ValueSpan, m, ref length)) return false;
                        at = m.Index + m.Length;
                        if (!_global) break;
                    }
                }
                if (!Add(text[at..], ref length)) return false;
            }
            catch (RegexMatchTimeoutException) { return _runner.TimedOut("regexp_replace"); }
            var result = _result.AsSpan(0, length);
            int bytes = Encoding.UTF8.GetByteCount(result);
            if (StringFunctions.TooLong(bytes, "regexp_replace", ref _runner.Failure)) { _runner.Reason = RowErrorReason.InvalidArgument; return false; }
            output.Commit(Encoding.UTF8.GetBytes(result, output.Reserve(bytes)));
            return true;
        }

        /// <summary>
        /// Whether <paramref name="at"/> falls between the two halves of a surrogate pair: .NET tries an empty match
        /// there, RE2 (reading code points) does not.
        /// </summary>
        private static bool InsidePair(ReadOnlySpan<char> text, int at) => at > 0 && at < text.Length && char.IsLowSurrogate(text[at]) && char.IsHighSurrogate(text[at - 1]);

        /// <summary>The highest group the rewrite names (0 when none or only \0), or -1 when it is not a valid rewrite.</summary>
        private static int HighestGroup(ReadOnlySpan<char> rewrite)
        {
            int highest = 0;
            for (int i = 0; i < rewrite.Length; i++)
            {
                if (rewrite[i] != '\\') continue;
                if (++i == rewrite.Length) return -1;
                if (rewrite[i] is >= '0' and <= '9') highest = Math.Max(highest, rewrite[i] - '0');
                else if (rewrite[i] != '\\') return -1;
            }
            return highest;
        }

        private bool Rewrite(ReadOnlySpan<char> rewrite, ReadOnlySpan<char> whole, Match? match, ref int length)
        {
            int start = 0;
            for (int i = 0; i < rewrite.Length; i++)
            {
                if (rewrite[i] != '\\') continue;
                if (!Add(rewrite[start..i], ref length)) return false;
                char c = rewrite[++i];
                var part = c == '\\' ? "\\" : c == '0' ? whole : match!.Groups[c - '0'].ValueSpan;
                if (!Add(part, ref length)) return false;
                start = i + 1;
            }
            return Add(rewrite[start..], ref length);
        }

        /// <summary>Appends to the result buffer; false (the record fails) past the limit on a built string.</summary>
        private bool Add(ReadOnlySpan<char> part, ref int length)
        {
            if ((long)length + part.Length > SqlLimits.MaxStringBytes)
            {
                StringFunctions.TooLong((long)length + part.Length, "regexp_replace", ref _runner.Failure);
                _runner.Reason = RowErrorReason.InvalidArgument;
                return false;
            }
            if (_result.Length < length + part.Length) Array.Resize(ref _result, Math.Max(length + part.Length, _result.Length * 2));
            part.CopyTo(_result.AsSpan(length));
            length += part.Length;
            return true;
        }
        public readonly RowErrorReason Reason => _runner.Reason;
        public readonly string Describe(int row) => _runner.Failure ?? "";
    }
}
