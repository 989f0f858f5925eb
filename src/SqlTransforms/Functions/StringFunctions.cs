// The row functions' array fields are set by Prepare before any row is read.
#pragma warning disable CS8618
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// String functions over UTF-8, counting in code points as DuckDB does: lower, upper, length, trim, substr,
/// replace, concat, split_part, starts_with. Each is a small struct run by <see cref="StringRowKernel{TOp}"/> or
/// <see cref="RowKernel{TOut,TOp}"/>; a new one is another struct and one registration line.
/// </summary>
internal static class StringFunctions
{
    public static void Register(FunctionRegistry r)
    {
        var V = SqlType.Varchar; var L = SqlType.BigInt;
        r.Add(new ScalarFunction("lower", "string", "lower case")).Add([V], V, (a, t) => new StringRowKernel<Case>(a, t, new Case(false)));
        r.Add(new ScalarFunction("upper", "string", "upper case")).Add([V], V, (a, t) => new StringRowKernel<Case>(a, t, new Case(true)));
        r.Add(new ScalarFunction("length", "string", "number of characters")).Add([V], L, (a, t) => new RowKernel<long, Length>(a, t, default));
        r.Alias("char_length", "length");
        r.Add(new ScalarFunction("trim", "string", "removes leading and trailing spaces (or the given characters)"))
            .Add([V], V, (a, t) => new StringRowKernel<Trim>(a, t, default))
            .Add([V, V], V, (a, t) => new StringRowKernel<Trim>(a, t, default));
        r.Add(new ScalarFunction("substr", "string", "substr(s, start[, length]): 1-based, by characters"))
            .Add([V, L], V, (a, t) => new StringRowKernel<Substring>(a, t, default))
            .Add([V, L, L], V, (a, t) => new StringRowKernel<Substring>(a, t, default));
        r.Alias("substring", "substr");
        r.Add(new ScalarFunction("replace", "string", "replace(s, from, to): every occurrence"))
            .Add([V, V, V], V, (a, t) => new StringRowKernel<Replace>(a, t, default));
        r.Add(new ScalarFunction("concat", "string", "concatenates its arguments, skipping NULLs"))
            .Add([V], V, (a, t) => new ConcatKernel(a), variadic: V, propagatesNull: false);
        r.Add(new ScalarFunction("split_part", "string", "split_part(s, delimiter, n): the n-th part (negative from the end), '' when there is none"))
            .Add([V, V, L], V, (a, t) => new StringRowKernel<SplitPart>(a, t, default));
        r.Add(new ScalarFunction("starts_with", "string", "starts_with(s, prefix)"))
            .Add([V, V], SqlType.Boolean, (a, t) => new RowKernel<bool, StartsWith>(a, t, default));
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

    internal struct Trim : IStringRowFunction
    {
        private BinaryArray _s;
        private BinaryArray? _characters;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _characters = args.Length > 1 ? (BinaryArray)args[1] : null; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            if (_characters is null)
            {
                output.Append(s.Trim((byte)' '));
                return true;
            }
            var text = System.Text.Encoding.UTF8.GetString(s).Trim(System.Text.Encoding.UTF8.GetString(_characters.GetBytes(row)).ToCharArray());
            output.Append(System.Text.Encoding.UTF8.GetBytes(text));
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
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _from = (BinaryArray)args[1]; _to = (BinaryArray)args[2]; }
        public readonly bool Write(int row, Utf8Builder output)
        {
            var s = _s.GetBytes(row);
            var from = _from.GetBytes(row);
            var to = _to.GetBytes(row);
            if (from.Length == 0) { output.Append(s); return true; }
            int count = 0;
            for (int i = s.IndexOf(from); i >= 0; ) { count++; int next = s[(i + from.Length)..].IndexOf(from); i = next < 0 ? -1 : i + from.Length + next; }
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
        public readonly string Describe(int row) => "";
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
            for (int i = s.IndexOf(d); i >= 0; )
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

    internal struct StartsWith : IRowFunction<bool>
    {
        private BinaryArray _s, _prefix;
        public void Prepare(IArrowArray[] args) { _s = (BinaryArray)args[0]; _prefix = (BinaryArray)args[1]; }
        public readonly bool Apply(int row, out bool value) { value = _s.GetBytes(row).StartsWith(_prefix.GetBytes(row)); return true; }
        public readonly RowErrorReason Reason => RowErrorReason.InvalidArgument;
        public readonly string Describe(int row) => "";
    }

    /// <summary>concat(a, b, ...): NULL arguments count as empty strings.</summary>
    private sealed class ConcatKernel(IReadOnlyList<Kernel> arguments) : Kernel(SqlType.Varchar)
    {
        public override IArrowArray Evaluate(EvalContext context)
        {
            var args = arguments.Select(a => (BinaryArray)a.Evaluate(context)).ToArray();
            int n = context.Length;
            var builder = new Utf8Builder(n, args.Sum(a => a.ValueBuffer.Length));
            for (int i = 0; i < n; i++)
            {
                int size = 0;
                foreach (var a in args) if (a.IsValid(i)) size += a.GetValueLength(i);
                var target = builder.Reserve(size);
                int at = 0;
                foreach (var a in args)
                    if (a.IsValid(i)) { var b = a.GetBytes(i); b.CopyTo(target[at..]); at += b.Length; }
                builder.Commit(size);
            }
            return builder.Build();
        }
    }
}
