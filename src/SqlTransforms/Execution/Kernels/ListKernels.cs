using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// Running kernels over the elements of lists, column at a time: a list's values are one Arrow array, so a cast or a
/// comparison of elements is the ordinary kernel evaluated once over that array in a context of its own (reused batch
/// after batch), and a row's result is read from its range of elements.
/// </summary>
internal sealed class ElementContext
{
    private readonly EvalContext _context = new();

    public RowErrors Errors => _context.Errors;

    public IArrowArray Evaluate(Kernel kernel, IArrowArray[] columns, int length, long nowMicros)
    {
        _context.Start(columns, length, nowMicros);
        return kernel.Evaluate(_context);
    }

    /// <summary>For each element of <paramref name="list"/>'s values, its row (-1 for elements no valid row holds).</summary>
    public static int[] Rows(ListArray list)
    {
        var rows = new int[list.Values.Length];
        Array.Fill(rows, -1);
        var offsets = list.ValueOffsets;
        for (int i = 0; i < list.Length; i++)
        {
            if (list.IsNull(i)) continue;
            for (int e = offsets[i]; e < offsets[i + 1]; e++) rows[e] = i;
        }
        return rows;
    }

    /// <summary>A list column over <paramref name="values"/>: row i holds values [offsets[i], offsets[i + 1]).</summary>
    public static IArrowArray Build(SqlType type, int[] offsets, byte[]? validity, int length, IArrowArray values)
    {
        int nulls = Vectors.CountNulls(validity, length);
        var offsetBytes = new byte[(length + 1) * 4];
        Buffer.BlockCopy(offsets, 0, offsetBytes, 0, offsetBytes.Length);
        return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(type), length, nulls, 0,
            [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity!), new ArrowBuffer(offsetBytes)], [values.Data]));
    }
}

/// <summary>CAST of a list to a list of another element type: the element cast over the values; an element that fails fails its row.</summary>
internal sealed class ListCastKernel(Kernel list, Kernel elementCast, SqlType type) : Kernel(type)
{
    private readonly ElementContext _elements = new();

    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        var values = _elements.Evaluate(elementCast, [l.Values], l.Values.Length, context.NowMicros);
        byte[]? validity = null;
        if (_elements.Errors.Count > 0)
        {
            var offsets = l.ValueOffsets;
            validity = Vectors.Validity(l) ?? Vectors.AllValid(l.Length);
            for (int i = 0; i < l.Length; i++)
            {
                if (l.IsNull(i)) continue;
                for (int e = offsets[i]; e < offsets[i + 1]; e++)
                {
                    if (!_elements.Errors.HasFailed(e)) continue;
                    var reason = _elements.Errors.ReasonOf(e)!;
                    if (context.Fail(i, reason)) context.Errors.AddSample(i, $"an element of the list does not convert to {Type.Element}");
                    // TRY_CAST (the row not counted): the element is NULL, as the element cast wrote it
                    if (context.IsActive(i)) Vectors.Clear(validity, i);
                    break;
                }
            }
        }
        var d = l.Data;
        int nulls = validity is null ? d.NullCount : Vectors.CountNulls(validity, l.Length);
        var buffers = (ArrowBuffer[])d.Buffers.Clone();
        if (validity is not null)
        {
            // the validity written here starts at bit 0: keep the offsets in step by slicing them the same way
            var offsetBytes = new byte[(l.Length + 1) * 4];
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(l.ValueOffsets).CopyTo(offsetBytes);
            return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(Type), l.Length, nulls, 0,
                [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity), new ArrowBuffer(offsetBytes)], [values.Data]));
        }
        return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(Type), d.Length, d.NullCount, d.Offset, buffers, [values.Data]));
    }
}

/// <summary>
/// array_contains (BOOLEAN) and array_position (INTEGER, 1-based): the needle repeated beside each element, one
/// equality kernel of the element type over all elements, then each row's first match. A NULL needle: contains is
/// NULL, position finds the first NULL element (DuckDB's rules). Not found: false, or NULL for the position.
/// </summary>
internal sealed class ListSearchKernel(Kernel list, Kernel needle, Kernel equal, bool position, SqlType type) : Kernel(type)
{
    private readonly ElementContext _elements = new();

    /// <summary>The equality the kernel runs over (element, needle) columns 0 and 1.</summary>
    public static Kernel Equality(SqlType element) => element.IsNested
        ? new NestedEqualKernel(new ColumnKernel(0, element), new ColumnKernel(1, element))
        : Functions.ComparisonOperators.Compile("=", element, new ColumnKernel(0, element), new ColumnKernel(1, element));

    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        var x = needle.Evaluate(context);
        int n = context.Length;
        var rows = ElementContext.Rows(l);
        var repeated = Gather.Take(x, rows);
        var matches = (BooleanArray)_elements.Evaluate(equal, [l.Values, repeated], rows.Length, context.NowMicros);
        var offsets = l.ValueOffsets;
        var validity = new byte[(n + 7) / 8];
        var bits = position ? null : new byte[(n + 7) / 8];
        var bytes = position ? Vectors.Allocate<int>(n, out _) : null;
        var found = position ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes.AsSpan()) : default;
        for (int i = 0; i < n; i++)
        {
            if (l.IsNull(i)) continue;
            bool nullNeedle = x.IsNull(i);
            if (nullNeedle && !position) continue;
            int at = -1;
            for (int e = offsets[i]; e < offsets[i + 1]; e++)
                if (nullNeedle ? l.Values.IsNull(e) : matches.GetValue(e) == true) { at = e - offsets[i]; break; }
            if (position)
            {
                if (at < 0) continue;
                found[i] = at + 1;
                Vectors.Set(validity, i);
            }
            else
            {
                Vectors.Set(validity, i);
                if (at >= 0) Vectors.Set(bits!, i);
            }
        }
        return position ? Vectors.Fixed(Type, bytes!, validity, n) : Vectors.Boolean(bits!, validity, n);
    }
}

/// <summary>
/// array_slice(list, begin, end[, step]) and <c>l[begin:end:step]</c>: 1-based and inclusive, a negative bound
/// counting from the end, bounds clamped to the list (<see cref="Range"/>, which the string slice shares); a negative step walks from begin down to end. Gathers the chosen elements into a new list.
/// A zero step over a range that is not empty fails the record (DuckDB: an error); over an empty one it gives [].
/// </summary>
internal sealed class ListSliceKernel(Kernel list, Kernel begin, Kernel end, Kernel? step, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        var b = begin.Evaluate(context);
        var e = end.Evaluate(context);
        var s = step?.Evaluate(context);
        int n = context.Length;
        var validity = Vectors.And(Vectors.And(Vectors.Validity(l), Vectors.Validity(b)), Vectors.Validity(e));
        if (s is not null) validity = Vectors.And(validity, Vectors.Validity(s));
        var begins = Vectors.Values<long>(b);
        var ends = Vectors.Values<long>(e);
        var steps = s is null ? default : Vectors.Values<long>(s);
        var offsets = l.ValueOffsets;
        var newOffsets = new int[n + 1];
        var indices = new List<int>();
        for (int i = 0; i < n; i++)
        {
            newOffsets[i] = indices.Count;
            if (!Vectors.Get(validity, i)) continue;
            long stepBy = s is null ? 1 : steps[i];
            long length = offsets[i + 1] - offsets[i];
            long from, to;
            if (stepBy >= 0)
            {
                (from, to) = Range(begins[i], ends[i], length);
                if (stepBy == 0 && from <= to)
                {
                    validity ??= Vectors.AllValid(n);
                    Vectors.Clear(validity, i);
                    if (context.Fail(i, RowErrorReason.InvalidArgument)) context.Errors.AddSample(i, "array_slice with a step of 0 over a range that is not empty");
                    continue;
                }
                if (stepBy == 0) continue;
                for (long p = from; p <= to; p = to - p < stepBy ? to + 1 : p + stepBy) indices.Add(offsets[i] + (int)p - 1);
            }
            else
            {
                from = Math.Min(Position(begins[i], length), length);
                to = Math.Max(Position(ends[i], length), 1);
                for (long p = from; p >= to; p = p - to < -stepBy ? to - 1 : p + stepBy) indices.Add(offsets[i] + (int)p - 1);
            }
        }
        newOffsets[n] = indices.Count;
        var values = Gather.Take(l.Values, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices));
        return ElementContext.Build(Type, newOffsets, validity, n, values);
    }

    /// <summary>
    /// The 1-based positions [from, to] that begin and end choose, clamped to 1..length (empty when from > to): of a
    /// list's elements, and of a string's characters for the string slice.
    /// </summary>
    public static (long From, long To) Range(long begin, long end, long length) =>
        (Math.Max(Position(begin, length), 1), Math.Min(Position(end, length), length));

    /// <summary>A 1-based position: negative ones count from the end (-1 is the last), 0 stays 0 (before the first).</summary>
    private static long Position(long p, long length) => p >= 0 ? p : Math.Max(length + p + 1, 0);
}

/// <summary>
/// Equality of two nested values of one type (lists, structs, maps), row by row: DuckDB's, where NULLs inside are
/// equal to each other, -0.0 to 0.0 and NaN to NaN; NULL when either value is NULL. Each side is encoded by a
/// <see cref="KeyCodec"/> into its own reused buffer and the bytes compared.
/// </summary>
internal sealed class NestedEqualKernel(Kernel left, Kernel right) : Kernel(SqlType.Boolean)
{
    private readonly KeyCodec _left = new([left.Type]), _right = new([left.Type]);

    public override IArrowArray Evaluate(EvalContext context)
    {
        IArrowArray[] a = [left.Evaluate(context)], b = [right.Evaluate(context)];
        int n = context.Length;
        var validity = Vectors.And(Vectors.Validity(a[0]), Vectors.Validity(b[0]));
        var bits = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++)
            if (Vectors.Get(validity, i) && _left.Encode(a, i).SequenceEqual(_right.Encode(b, i))) Vectors.Set(bits, i);
        return Vectors.Boolean(bits, validity, n);
    }
}

/// <summary>
/// flatten(list of lists): each row's inner lists concatenated, NULL inner lists left out (DuckDB's); a NULL list is NULL.
/// The inner values are shared as they are when no NULL inner list holds elements (the usual case), gathered otherwise.
/// </summary>
internal sealed class ListFlattenKernel(Kernel list, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var outer = (ListArray)list.Evaluate(context);
        var inner = (ListArray)outer.Values;
        int n = context.Length;
        var outerOffsets = outer.ValueOffsets;
        var innerOffsets = inner.ValueOffsets;
        var newOffsets = new int[n + 1];
        bool shared = true;
        for (int j = 0; j < inner.Length && shared; j++) shared = !inner.IsNull(j) || innerOffsets[j] == innerOffsets[j + 1];
        if (shared)
        {
            for (int i = 0; i <= n; i++) newOffsets[i] = innerOffsets[outerOffsets[i]];
            return ElementContext.Build(Type, newOffsets, Vectors.Validity(outer), n, inner.Values);
        }
        var indices = new List<int>();
        for (int i = 0; i < n; i++)
        {
            newOffsets[i] = indices.Count;
            if (outer.IsNull(i)) continue;
            for (int j = outerOffsets[i]; j < outerOffsets[i + 1]; j++)
                if (!inner.IsNull(j))
                    for (int e = innerOffsets[j]; e < innerOffsets[j + 1]; e++) indices.Add(e);
        }
        newOffsets[n] = indices.Count;
        return ElementContext.Build(Type, newOffsets, Vectors.Validity(outer), n, Gather.Take(inner.Values, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices)));
    }
}

/// <summary>
/// array_distinct: each list's distinct values in the order they first occur, NULLs left out. Values are keyed as
/// bytes (<see cref="KeyCodec"/>, -0.0 as 0.0 and one NaN) in a table cleared per row: no allocation per row.
/// </summary>
internal sealed class ListDistinctKernel(Kernel list, SqlType type) : Kernel(type)
{
    private readonly KeyCodec _codec = new([type.Element!]);
    private readonly KeyTable _seen = new();

    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        int n = context.Length;
        var offsets = l.ValueOffsets;
        var values = new[] { l.Values };
        var newOffsets = new int[n + 1];
        var indices = new List<int>();
        for (int i = 0; i < n; i++)
        {
            newOffsets[i] = indices.Count;
            if (l.IsNull(i)) continue;
            _seen.Clear();
            for (int e = offsets[i]; e < offsets[i + 1]; e++)
            {
                if (l.Values.IsNull(e)) continue;
                _seen.GetOrAdd(_codec.Encode(values, e), out bool added);
                if (added) indices.Add(e);
            }
        }
        newOffsets[n] = indices.Count;
        return ElementContext.Build(Type, newOffsets, Vectors.Validity(l), n, Gather.Take(l.Values, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices)));
    }
}

/// <summary>
/// array_to_string(list, separator): the elements as text (CAST to VARCHAR, over all elements at once) joined by
/// the separator, NULL elements left out. DuckDB's rules: an empty list gives '', a list of only NULLs gives NULL,
/// a NULL separator is ','.
/// </summary>
internal sealed class ListToStringKernel(Kernel list, Kernel separator, Kernel elementText) : Kernel(SqlType.Varchar)
{
    private readonly ElementContext _elements = new();

    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = (ListArray)list.Evaluate(context);
        var sep = (BinaryArray)separator.Evaluate(context);
        var text = (BinaryArray)_elements.Evaluate(elementText, [l.Values], l.Values.Length, context.NowMicros);
        int n = context.Length;
        var offsets = l.ValueOffsets;
        var builder = new Utf8Builder(n, text.ValueBuffer.Length + n);
        for (int i = 0; i < n; i++)
        {
            if (l.IsNull(i)) { builder.AppendNull(); continue; }
            var by = sep.IsNull(i) ? ","u8 : sep.GetBytes(i);
            int size = 0, count = 0;
            for (int e = offsets[i]; e < offsets[i + 1]; e++)
                if (!text.IsNull(e)) { size += (count++ > 0 ? by.Length : 0) + text.GetBytes(e).Length; }
            if (count == 0 && offsets[i + 1] > offsets[i]) { builder.AppendNull(); continue; }
            var target = builder.Reserve(size);
            int at = 0;
            bool first = true;
            for (int e = offsets[i]; e < offsets[i + 1]; e++)
            {
                if (text.IsNull(e)) continue;
                if (!first) { by.CopyTo(target[at..]); at += by.Length; }
                first = false;
                var v = text.GetBytes(e);
                v.CopyTo(target[at..]);
                at += v.Length;
            }
            builder.Commit(size);
        }
        return builder.Build();
    }
}

/// <summary>
/// string_to_array(text, separator): the parts between separators as a VARCHAR[] (empty parts kept); an empty
/// separator splits into characters (code points), a NULL one gives the whole text as the one element (DuckDB's).
/// </summary>
internal sealed class StringToListKernel(Kernel text, Kernel separator, SqlType type) : Kernel(type)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var s = (BinaryArray)text.Evaluate(context);
        var sep = (BinaryArray)separator.Evaluate(context);
        int n = context.Length;
        var offsets = new int[n + 1];
        var parts = new Utf8Builder(n * 2, s.ValueBuffer.Length);
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            offsets[i] = count;
            if (s.IsNull(i)) continue;
            var value = s.GetBytes(i);
            if (sep.IsNull(i)) { parts.Append(value); count++; continue; }
            var by = sep.GetBytes(i);
            if (by.Length == 0)
            {
                if (value.Length == 0) { parts.Append(value); count++; continue; }
                for (int at = 0; at < value.Length;)
                {
                    int next = Utf8Text.NextCodePoint(value, at);
                    parts.Append(value[at..next]);
                    count++;
                    at = next;
                }
                continue;
            }
            while (true)
            {
                int found = value.IndexOf(by);
                if (found < 0) { parts.Append(value); count++; break; }
                parts.Append(value[..found]);
                count++;
                value = value[(found + by.Length)..];
            }
        }
        offsets[n] = count;
        return ElementContext.Build(Type, offsets, Vectors.Validity(s), n, parts.Build());
    }
}
