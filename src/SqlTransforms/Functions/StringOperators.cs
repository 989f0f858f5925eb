// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using System.Text;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// <c>||</c> (NULL if either side is NULL; concat() skips NULLs), LIKE and ILIKE with % and _ (and ESCAPE), matched
/// over UTF-8 without allocating; ILIKE folds case first.
/// </summary>
internal static class StringOperators
{
    public static void Register(FunctionRegistry r)
    {
        var V = SqlType.Varchar;
        r.Add(new ScalarFunction("||", "operators", "string concatenation"))
            .Add([V, V], V, (a, t) => new StringRowKernel<Concat>(a, t, default));
        r.Add(new ScalarFunction("like", "operators", "LIKE pattern match"))
            .Add([V, V], SqlType.Boolean, (a, t) => new RowKernel<bool, Like>(a, t, new Like(false, false)))
            .Add([V, V, V], SqlType.Boolean, (a, t) => new RowKernel<bool, Like>(a, t, new Like(false, true)));
        r.Add(new ScalarFunction("ilike", "operators", "case-insensitive LIKE"))
            .Add([V, V], SqlType.Boolean, (a, t) => new RowKernel<bool, Like>(a, t, new Like(true, false)))
            .Add([V, V, V], SqlType.Boolean, (a, t) => new RowKernel<bool, Like>(a, t, new Like(true, true)));
    }

    internal struct Concat : IStringRowFunction
    {
        private BinaryArray _a, _b;
        public void Prepare(IArrowArray[] args) { _a = (BinaryArray)args[0]; _b = (BinaryArray)args[1]; }
        public bool Write(int row, Utf8Builder output)
        {
            var a = _a.GetBytes(row);
            var b = _b.GetBytes(row);
            var target = output.Reserve(a.Length + b.Length);
            a.CopyTo(target);
            b.CopyTo(target[a.Length..]);
            output.Commit(a.Length + b.Length);
            return true;
        }
        public RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public string Describe(int row) => "";
    }

    internal struct Like(bool caseInsensitive, bool hasEscape) : IRowFunction<bool>
    {
        private BinaryArray _value, _pattern;
        private BinaryArray? _escape;
        private string? _failure;

        public void Prepare(IArrowArray[] args)
        {
            _value = (BinaryArray)args[0];
            _pattern = (BinaryArray)args[1];
            _escape = hasEscape ? (BinaryArray)args[2] : null;
        }

        public bool Apply(int row, out bool value)
        {
            value = false;
            int escape = -1;
            if (_escape is not null)
            {
                var e = _escape.GetBytes(row);
                if (e.Length > 1) { _failure = "the ESCAPE of LIKE must be a single character"; return false; }
                if (e.Length == 1) escape = e[0];
            }
            var text = _value.GetBytes(row);
            var pattern = _pattern.GetBytes(row);
            if (caseInsensitive)
            {
                if (Utf8Text.IsAscii(text) && Utf8Text.IsAscii(pattern))
                {
                    value = Match(text, pattern, escape, true);
                    return true;
                }
                var t = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(text).ToLowerInvariant());
                var p = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(pattern).ToLowerInvariant());
                value = Match(t, p, escape, false);
                return true;
            }
            value = Match(text, pattern, escape, false);
            return true;
        }

        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => _failure ?? "LIKE";

        /// <summary>
        /// Iterative matching with one backtrack point for the last %: O(text * pattern) at worst, no recursion.
        /// _ matches one code point (a lead byte and its continuation bytes).
        /// </summary>
        public static bool Match(ReadOnlySpan<byte> text, ReadOnlySpan<byte> pattern, int escape, bool foldAscii)
        {
            int t = 0, p = 0, starP = -1, starT = 0;
            while (t < text.Length)
            {
                if (p < pattern.Length)
                {
                    byte pc = pattern[p];
                    if (pc == '%' && escape != '%') { starP = ++p; starT = t; continue; }
                    if (pc == '_' && escape != '_') { t = NextCodePoint(text, t); p++; continue; }
                    int literalAt = p;
                    if (pc == escape && p + 1 < pattern.Length) literalAt = p + 1;
                    int literalEnd = NextCodePoint(pattern, literalAt);
                    var literal = pattern[literalAt..literalEnd];
                    if (t + literal.Length <= text.Length && Equal(text.Slice(t, literal.Length), literal, foldAscii))
                    {
                        t += literal.Length;
                        p = literalEnd;
                        continue;
                    }
                }
                if (starP < 0) return false;
                starT = NextCodePoint(text, starT);
                t = starT;
                p = starP;
            }
            while (p < pattern.Length && pattern[p] == '%' && escape != '%') p++;
            return p == pattern.Length;
        }

        private static bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool foldAscii)
        {
            if (!foldAscii) return a.SequenceEqual(b);
            for (int i = 0; i < a.Length; i++)
            {
                int x = a[i], y = b[i];
                if (x is >= 'A' and <= 'Z') x += 32;
                if (y is >= 'A' and <= 'Z') y += 32;
                if (x != y) return false;
            }
            return true;
        }

        private static int NextCodePoint(ReadOnlySpan<byte> s, int i)
        {
            i++;
            while (i < s.Length && (s[i] & 0xC0) == 0x80) i++;
            return i;
        }
    }
}
