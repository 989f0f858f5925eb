// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// String functions over UTF-8, counting in code points as DuckDB does (reverse keeps grapheme clusters whole, as
/// DuckDB's does; initcap is PostgreSQL's, DuckDB has none). Each is a small struct run by <see cref="StringRowKernel{TOp}"/> or
/// <see cref="RowKernel{TOut,TOp}"/>; a new one is another struct and one registration line.
/// </summary>
internal static class StringFunctions
{
    public static void Register(FunctionRegistry r)
    {
        var V = SqlType.Varchar; var L = SqlType.BigInt; var I = SqlType.Integer; var B = SqlType.Boolean;
        r.Add(new ScalarFunction("lower", "string", "lower case")).Add([V], V, (a, t) => new StringRowKernel<Case>(a, t, new Case(false)));
        r.Add(new ScalarFunction("upper", "string", "upper case")).Add([V], V, (a, t) => new StringRowKernel<Case>(a, t, new Case(true)));
        r.Add(new ScalarFunction("initcap", "string", "each word's first letter upper case, the rest lower (PostgreSQL's; words are runs of letters and digits)"))
            .Add([V], V, (a, t) => new StringRowKernel<InitCap>(a, t, default));
        r.Add(new ScalarFunction("length", "string", "number of characters")).Add([V], L, (a, t) => new RowKernel<long, Length>(a, t, default));
        r.Alias("char_length", "length");
        r.Add(new ScalarFunction("trim", "string", "removes leading and trailing spaces (or the given characters)"))
            .Add([V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(true, true)))
            .Add([V, V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(true, true)));
        r.Add(new ScalarFunction("ltrim", "string", "removes leading spaces (or the given characters)"))
            .Add([V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(true, false)))
            .Add([V, V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(true, false)));
        r.Add(new ScalarFunction("rtrim", "string", "removes trailing spaces (or the given characters)"))
            .Add([V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(false, true)))
            .Add([V, V], V, (a, t) => new StringRowKernel<Trim>(a, t, new Trim(false, true)));
        r.Add(new ScalarFunction("substr", "string", "substr(s, start[, length]): 1-based, by characters"))
            .Add([V, L], V, (a, t) => new StringRowKernel<Substring>(a, t, default))
            .Add([V, L, L], V, (a, t) => new StringRowKernel<Substring>(a, t, default));
        r.Alias("substring", "substr");
        r.Add(new ScalarFunction("left", "string", "left(s, n): the first n characters (negative: all but the last -n)"))
            .Add([V, L], V, (a, t) => new StringRowKernel<LeftRight>(a, t, new LeftRight(true)));
        r.Add(new ScalarFunction("right", "string", "right(s, n): the last n characters (negative: all but the first -n)"))
            .Add([V, L], V, (a, t) => new StringRowKernel<LeftRight>(a, t, new LeftRight(false)));
        r.Add(new ScalarFunction("lpad", "string", "lpad(s, n, pad): s padded on the left with pad to n characters, or cut to n"))
            .Add([V, I, V], V, (a, t) => new StringRowKernel<Pad>(a, t, new Pad(true)));
        r.Add(new ScalarFunction("rpad", "string", "rpad(s, n, pad): s padded on the right with pad to n characters, or cut to n"))
            .Add([V, I, V], V, (a, t) => new StringRowKernel<Pad>(a, t, new Pad(false)));
        r.Add(new ScalarFunction("reverse", "string", "the characters in reverse order (grapheme clusters kept whole, as DuckDB)"))
            .Add([V], V, (a, t) => new StringRowKernel<Reverse>(a, t, default));
        r.Add(new ScalarFunction("repeat", "string", "repeat(s, n): s n times"))
            .Add([V, L], V, (a, t) => new StringRowKernel<Repeat>(a, t, default));
        r.Add(new ScalarFunction("replace", "string", "replace(s, from, to): every occurrence"))
            .Add([V, V, V], V, (a, t) => new StringRowKernel<Replace>(a, t, default));
        r.Add(new ScalarFunction("concat", "string", "concatenates its arguments as text, skipping NULLs",
            resolver: args => AsText(args, 1, (k, _) => new ConcatKernel(k, separated: false)), signatures: "concat(T, T...) for T any type but lists, structs and maps"));
        r.Add(new ScalarFunction("concat_ws", "string", "concat_ws(separator, a, b, ...): the arguments as text joined by the separator, NULLs skipped; NULL when the separator is",
            resolver: args => AsText(args, 2, (k, _) => new ConcatKernel(k, separated: true)), signatures: "concat_ws(VARCHAR, T, T...) for T any type but lists, structs and maps"));
        r.Add(new ScalarFunction("split_part", "string", "split_part(s, delimiter, n): the n-th part (negative from the end), '' when there is none"))
            .Add([V, V, L], V, (a, t) => new StringRowKernel<SplitPart>(a, t, default));
        r.Add(new ScalarFunction("strpos", "string", "strpos(s, sub): the character position of sub's first occurrence in s, 1-based; 0 when absent"))
            .Add([V, V], L, (a, t) => new RowKernel<long, StrPos>(a, t, default));
        r.Alias("instr", "strpos");
        r.Add(new ScalarFunction("starts_with", "string", "starts_with(s, prefix)"))
            .Add([V, V], B, (a, t) => new RowKernel<bool, Affix>(a, t, new Affix('s')));
        r.Add(new ScalarFunction("ends_with", "string", "ends_with(s, suffix)"))
            .Add([V, V], B, (a, t) => new RowKernel<bool, Affix>(a, t, new Affix('e')));
        r.Alias("suffix", "ends_with");
        r.Add(new ScalarFunction("contains", "string", "contains(s, sub): whether sub occurs in s"))
            .Add([V, V], B, (a, t) => new RowKernel<bool, Affix>(a, t, new Affix('c')));
        r.Add(new ScalarFunction("chr", "string", "the character of a Unicode code point; a value that is none fails the record"))
            .Add([I], V, (a, t) => new StringRowKernel<Chr>(a, t, default))
            .Add([L], V, (a, t) => new StringRowKernel<Chr>(a, t, default));
        r.Add(new ScalarFunction("ascii", "string", "the code point of the first character (0 for '')"))
            .Add([V], I, (a, t) => new RowKernel<int, Ascii>(a, t, default));
        r.Add(new ScalarFunction("md5", "string", "the MD5 digest of a string's UTF-8 bytes (or a BLOB) as 32 hex digits"))
            .Add([V], V, (a, t) => new StringRowKernel<Digest>(a, t, new Digest(false)))
            .Add([SqlType.Blob], V, (a, t) => new StringRowKernel<Digest>(a, t, new Digest(false)));
        r.Add(new ScalarFunction("sha256", "string", "the SHA-256 digest of a string's UTF-8 bytes (or a BLOB) as 64 hex digits"))
            .Add([V], V, (a, t) => new StringRowKernel<Digest>(a, t, new Digest(true)))
            .Add([SqlType.Blob], V, (a, t) => new StringRowKernel<Digest>(a, t, new Digest(true)));
    }

    /// <summary>Functions of any number of values as text (concat, concat_ws): each argument is cast to VARCHAR, as DuckDB does.</summary>
    private static FunctionBinding? AsText(IReadOnlyList<ArgumentInfo> args, int minimum, KernelFactory compile)
    {
        if (args.Count < minimum || args.Any(a => !CastFunctions.CanCast(a.Type, SqlType.Varchar))) return null;
        return new FunctionBinding(args.Select(_ => SqlType.Varchar).ToList(), SqlType.Varchar, compile, PropagatesNull: false);
    }

    /// <summary>A string a function makes from small inputs (repeat, lpad) is at most this long; longer fails the record.</summary>
    internal static bool TooLong(long bytes, string function, ref string? failure)
    {
        if (bytes <= SqlLimits.MaxStringBytes) return false;
        failure = $"{function} would make a string of {bytes} bytes; a value is at most {SqlLimits.MaxStringBytes}";
        return true;
    }

    internal struct Case(bool upper) : IStringRowFunction
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output) { Utf8Text.ChangeCase(_s.GetBytes(row), upper, output); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    internal struct Length : IRowFunction<long>
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Apply(int row, out long value) { value = Utf8Text.CodePoints(_s.GetBytes(row)); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>trim, ltrim, rtrim: spaces, or any of the given characters (by code point, over the UTF-8 bytes).</summary>
    internal struct Trim(bool leading, bool trailing) : IStringRowFunction
    {
        private BinaryArray _s;
        private BinaryArray? _characters;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _characters = args.Length > 1 ? (BinaryArray)args[1] : null; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var set = _characters is null ? " "u8 : _characters.GetBytes(row);
            int start = 0, end = s.Length;
            if (leading)
                while (start < end)
                {
                    int next = Utf8Text.NextCodePoint(s, start);
                    if (!Utf8Text.ContainsCodePoint(set, s[start..next])) break;
                    start = next;
                }
            if (trailing)
                while (end > start)
                {
                    int last = Utf8Text.PreviousCodePoint(s, end, start);
                    if (!Utf8Text.ContainsCodePoint(set, s[last..end])) break;
                    end = last;
                }
            output.Append(s[start..end]);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>DuckDB's substring rules: start 0 is one before the first character, negative counts from the end, a negative length goes backwards; the window is then clipped to the string.</summary>
    internal struct Substring : IStringRowFunction
    {
        private BinaryArray _s;
        private IArrowArray _start;
        private IArrowArray? _length;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _start = args[1]; _length = args.Length > 2 ? args[2] : null; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            long size = Utf8Text.CodePoints(s);
            long offset = Vectors.Values<long>(_start)[row];
            long length = _length is null ? uint.MaxValue : Vectors.Values<long>(_length)[row];
            // the window [start, end) in characters, then clamped to the string
            long start = offset > 0 ? offset - 1 : offset == 0 ? -1 : size + offset;
            long end = start + length;
            if (length < 0) (start, end) = (start + length, start);
            start = Math.Clamp(start, 0, size);
            end = Math.Clamp(end, 0, size);
            if (start >= end) { output.Append([]); return true; }
            int from = Utf8Text.ByteOffset(s, start), to = Utf8Text.ByteOffset(s, end);
            output.Append(s[from..Math.Max(from, to)]);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    internal struct Replace : IStringRowFunction
    {
        private BinaryArray _s, _from, _to;
        private string? _failure;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _from = (BinaryArray)args[1]; _to = (BinaryArray)args[2]; }
        public bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var from = _from.GetBytes(row);
            var to = _to.GetBytes(row);
            if (from.Length == 0) { output.Append(s); return true; }
            int count = 0;
            for (int i = s.IndexOf(from); i >= 0;) { count++; int next = s[(i + from.Length)..].IndexOf(from); i = next < 0 ? -1 : i + from.Length + next; }
            if (TooLong(s.Length + (long)count * (to.Length - from.Length), "replace", ref _failure)) return false;
            var target = output.Reserve(s.Length + count * (to.Length - from.Length));
            int written = 0;
            while (true)
            {
                int i = s.IndexOf(from);
                if (i < 0) break;
                s[..i].CopyTo(target[written..]);
                written += i;
                to.CopyTo(target[written..]);
                written += to.Length;
                s = s[(i + from.Length)..];
            }
            s.CopyTo(target[written..]);
            output.Commit(written + s.Length);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => _failure ?? "";
    }

    /// <summary>split_part with DuckDB's rules: an empty delimiter splits into characters, index 0 is ''.</summary>
    internal struct SplitPart : IStringRowFunction
    {
        private BinaryArray _s, _delimiter;
        private IArrowArray _index;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _delimiter = (BinaryArray)args[1]; _index = args[2]; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var d = _delimiter.GetBytes(row);
            long index = Vectors.Values<long>(_index)[row];
            // the parts as (start, end) byte ranges, found without allocating: count first, then walk to the one wanted
            int parts = CountParts(s, d);
            if (index < 0) index = parts + index + 1;
            if (index < 1 || index > parts) { output.Append([]); return true; }
            int start = 0;
            for (long p = 1; ; p++)
            {
                int end = NextEnd(s, d, start);
                if (p == index) { output.Append(s[start..end]); return true; }
                start = end + d.Length;
            }
        }

        private static int CountParts(ReadOnlySpan<byte> s, ReadOnlySpan<byte> d)
        {
            if (s.Length == 0) return 1;
            if (d.Length == 0) return Utf8Text.CodePoints(s);
            int count = 1;
            for (int i = s.IndexOf(d); i >= 0;)
            {
                count++;
                int next = s[(i + d.Length)..].IndexOf(d);
                i = next < 0 ? -1 : i + d.Length + next;
            }
            return count;
        }

        private static int NextEnd(ReadOnlySpan<byte> s, ReadOnlySpan<byte> d, int start)
        {
            if (d.Length == 0)
            {
                int e = start + 1;
                while (e < s.Length && (s[e] & 0xC0) == 0x80) e++;
                return Math.Min(e, s.Length);
            }
            int i = s[start..].IndexOf(d);
            return i < 0 ? s.Length : start + i;
        }

        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>starts_with ('s'), ends_with ('e'), contains ('c'); the empty string is in every string.</summary>
    internal struct Affix(char where) : IRowFunction<bool>
    {
        private BinaryArray _s, _part;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _part = (BinaryArray)args[1]; }
        public readonly bool Apply(int row, out bool value)
        {
            var s = _s.GetBytes(row);
            var part = _part.GetBytes(row);
            value = where switch { 's' => s.StartsWith(part), 'e' => s.EndsWith(part), _ => s.IndexOf(part) >= 0 };
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    internal struct StrPos : IRowFunction<long>
    {
        private BinaryArray _s, _part;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _part = (BinaryArray)args[1]; }
        public readonly bool Apply(int row, out long value)
        {
            var s = _s.GetBytes(row);
            int at = s.IndexOf(_part.GetBytes(row));
            value = at < 0 ? 0 : Utf8Text.CodePoints(s[..at]) + 1;
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>left and right by characters; a negative count leaves that many off the other end (DuckDB).</summary>
    internal struct LeftRight(bool left) : IStringRowFunction
    {
        private BinaryArray _s;
        private IArrowArray _n;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _n = args[1]; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            long n = Vectors.Values<long>(_n)[row];
            long size = Utf8Text.IsAscii(s) ? s.Length : Utf8Text.CodePoints(s);
            long keep = n >= 0 ? Math.Min(n, size) : Math.Max(0, size + n);
            output.Append(left ? s[..Utf8Text.ByteOffset(s, keep)] : s[Utf8Text.ByteOffset(s, size - keep)..]);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>lpad and rpad (DuckDB's): a string longer than n is cut to its first n characters; an empty pad that is needed fails the record.</summary>
    internal struct Pad(bool left) : IStringRowFunction
    {
        private BinaryArray _s, _pad;
        private IArrowArray _n;
        private string? _failure;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _n = args[1]; _pad = (BinaryArray)args[2]; }
        public bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var pad = _pad.GetBytes(row);
            long n = Vectors.Values<int>(_n)[row];
            int size = Utf8Text.CodePoints(s);
            if (n <= size)
            {
                output.Append(s[..Utf8Text.ByteOffset(s, Math.Max(0, n))]);
                return true;
            }
            long missing = n - size;
            int padSize = Utf8Text.CodePoints(pad);
            if (padSize == 0) { _failure = $"{(left ? "lpad" : "rpad")} needs {missing} characters of padding, and the pad is ''"; return false; }
            int partial = Utf8Text.ByteOffset(pad, missing % padSize);
            long bytes = s.Length + missing / padSize * pad.Length + partial;
            if (TooLong(bytes, left ? "lpad" : "rpad", ref _failure)) return false;
            var target = output.Reserve((int)bytes);
            int at = left ? 0 : s.Length;
            for (long i = 0; i < missing / padSize; i++) { pad.CopyTo(target[at..]); at += pad.Length; }
            pad[..partial].CopyTo(target[at..]);
            s.CopyTo(target[(left ? (int)bytes - s.Length : 0)..]);
            output.Commit((int)bytes);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => _failure ?? "";
    }

    internal struct Repeat : IStringRowFunction
    {
        private BinaryArray _s;
        private IArrowArray _n;
        private string? _failure;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _n = args[1]; }
        public bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            long n = Math.Max(0, Vectors.Values<long>(_n)[row]);
            if (s.Length > 0 && TooLong(n > SqlLimits.MaxStringBytes ? n : n * s.Length, "repeat", ref _failure)) return false;
            int bytes = (int)(n * s.Length);
            var target = output.Reserve(bytes);
            for (int at = 0; at < bytes; at += s.Length) s.CopyTo(target[at..]);
            output.Commit(bytes);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => _failure ?? "";
    }

    /// <summary>
    /// reverse by grapheme clusters, as DuckDB does (an accent stays on its letter, a flag stays a flag): ASCII
    /// byte by byte, other text through a buffer of UTF-16 kept across rows.
    /// </summary>
    internal struct Reverse : IStringRowFunction
    {
        private BinaryArray _s;
        private char[] _chars;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _chars ??= new char[256]; }
        public bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var target = output.Reserve(s.Length);
            if (Utf8Text.IsAscii(s))
            {
                for (int i = 0; i < s.Length; i++) target[i] = s[s.Length - 1 - i];
                output.Commit(s.Length);
                return true;
            }
            if (_chars.Length < s.Length) _chars = new char[Math.Max(s.Length, _chars.Length * 2)];
            var chars = _chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(s, _chars));
            // clusters from the front; each is written at the back of what is left of the target (same bytes, reversed order)
            int total = System.Text.Encoding.UTF8.GetByteCount(chars);
            target = output.Reserve(total);
            int end = total;
            while (chars.Length > 0)
            {
                int cluster = System.Globalization.StringInfo.GetNextTextElementLength(chars);
                int bytes = System.Text.Encoding.UTF8.GetBytes(chars[..cluster], target[(end - System.Text.Encoding.UTF8.GetByteCount(chars[..cluster]))..]);
                end -= bytes;
                chars = chars[cluster..];
            }
            output.Commit(total);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>PostgreSQL's initcap: a letter or digit after anything else starts a word and is upper-cased, the rest of the word lower-cased.</summary>
    internal struct InitCap : IStringRowFunction
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            // a rune's other case is one rune of at most 4 bytes
            var target = output.Reserve(s.Length * 4);
            int written = 0;
            bool inWord = false;
            for (int i = 0; i < s.Length;)
            {
                System.Text.Rune.DecodeFromUtf8(s[i..], out var rune, out int consumed);
                bool letterOrDigit = System.Text.Rune.IsLetterOrDigit(rune);
                var cased = !letterOrDigit ? rune : inWord ? System.Text.Rune.ToLowerInvariant(rune) : System.Text.Rune.ToUpperInvariant(rune);
                written += cased.EncodeToUtf8(target[written..]);
                inWord = letterOrDigit;
                i += consumed;
            }
            output.Commit(written);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    internal struct Chr : IStringRowFunction
    {
        private IArrowArray _code;
        public void Prepare(IArrowArray[] args) => _code = args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            long code = Code(row);
            if (code is < 0 or > 0x10FFFF || !System.Text.Rune.IsValid((int)code)) return false;
            var rune = new System.Text.Rune((int)code);
            output.Commit(rune.EncodeToUtf8(output.Reserve(4)));
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => $"chr({Code(row)}): not a Unicode code point";
        private readonly long Code(int row) => _code is Int64Array ? Vectors.Values<long>(_code)[row] : Vectors.Values<int>(_code)[row];
    }

    internal struct Ascii : IRowFunction<int>
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Apply(int row, out int value)
        {
            var s = _s.GetBytes(row);
            value = s.Length == 0 ? 0 : System.Text.Rune.DecodeFromUtf8(s, out var rune, out _) == System.Buffers.OperationStatus.Done ? rune.Value : s[0];
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>md5 and sha256 as lower-case hex, hashed into a stack buffer.</summary>
    internal struct Digest(bool sha256) : IStringRowFunction
    {
        private BinaryArray _s;
        public void Prepare(IArrowArray[] args) => _s = (BinaryArray)args[0];
        public readonly bool Write(int row, Utf8Builder output)
        {
            Span<byte> hash = stackalloc byte[32];
            int size = sha256
                ? System.Security.Cryptography.SHA256.HashData(_s.GetBytes(row), hash)
                : System.Security.Cryptography.MD5.HashData(_s.GetBytes(row), hash);
            var target = output.Reserve(size * 2);
            Utf8Text.WriteHex(hash[..size], target);
            output.Commit(size * 2);
            return true;
        }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>concat(a, b, ...): NULL arguments count as empty strings; concat_ws(sep, a, b, ...) joins the non-NULL ones with sep, NULL when sep is.</summary>
    private sealed class ConcatKernel(IReadOnlyList<Kernel> arguments, bool separated) : Kernel(SqlType.Varchar)
    {
        public override IArrowArray Evaluate(EvalContext context)
        {
            var args = arguments.Select(a => (BinaryArray)a.Evaluate(context)).ToArray();
            int n = context.Length;
            int first = separated ? 1 : 0;
            var builder = new Utf8Builder(n, args.Sum(a => a.ValueBuffer.Length));
            for (int i = 0; i < n; i++)
            {
                if (separated && args[0].IsNull(i)) { builder.AppendNull(); continue; }
                var separator = separated ? args[0].GetBytes(i) : default;
                int size = 0, values = 0;
                for (int a = first; a < args.Length; a++)
                    if (args[a].IsValid(i)) { size += args[a].GetValueLength(i); values++; }
                size += Math.Max(0, values - 1) * separator.Length;
                var target = builder.Reserve(size);
                int at = 0;
                bool any = false;
                for (int a = first; a < args.Length; a++)
                {
                    if (!args[a].IsValid(i)) continue;
                    if (any) { separator.CopyTo(target[at..]); at += separator.Length; }
                    var b = args[a].GetBytes(i);
                    b.CopyTo(target[at..]);
                    at += b.Length;
                    any = true;
                }
                builder.Commit(size);
            }
            return builder.Build();
        }
    }
}
