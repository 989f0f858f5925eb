using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Reading and building Arrow arrays column at a time: the values of a fixed-width array as a span, validity
/// bitmaps, and arrays over freshly written buffers (no copy). Arrow's C# library has no compute kernels; these are
/// the few primitives every kernel shares.
/// </summary>
internal static class Vectors
{
    /// <summary>The values of a fixed-width array (any of int, long, float, double, Int128, IntervalValue...), offset applied.</summary>
    public static ReadOnlySpan<T> Values<T>(IArrowArray array) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(array.Data.Buffers[1].Span).Slice(array.Data.Offset, array.Length);

    /// <summary>Whether any row may be NULL (a cheap check that lets kernels skip validity work).</summary>
    public static bool HasNulls(IArrowArray array) => array.NullCount > 0;

    /// <summary>The validity of <paramref name="array"/> as a bitmap starting at bit 0, or null when no row is NULL.</summary>
    public static byte[]? Validity(IArrowArray array)
    {
        if (array.NullCount == 0) return null;
        int n = array.Length;
        var bits = new byte[(n + 7) / 8];
        var data = array.Data;
        if (data.Buffers[0].IsEmpty)
        {
            // arrays without a validity buffer that still have nulls (NullArray): all NULL
            return bits;
        }
        var source = data.Buffers[0].Span;
        int offset = data.Offset;
        if ((offset & 7) == 0)
        {
            source.Slice(offset >> 3, bits.Length).CopyTo(bits);
            return bits;
        }
        for (int i = 0; i < n; i++)
        {
            int j = i + offset;
            if ((source[j >> 3] & (1 << (j & 7))) != 0) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        return bits;
    }

    /// <summary>Rows valid in both: the bitmap AND of two validities (null means all valid).</summary>
    public static byte[]? And(byte[]? a, byte[]? b)
    {
        if (a is null) return b is null ? null : (byte[])b.Clone();
        if (b is null) return (byte[])a.Clone();
        var r = new byte[a.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (byte)(a[i] & b[i]);
        return r;
    }

    public static bool Get(byte[]? bitmap, int i) => bitmap is null || (bitmap[i >> 3] & (1 << (i & 7))) != 0;
    public static void Set(byte[] bitmap, int i) => bitmap[i >> 3] |= (byte)(1 << (i & 7));
    public static void Clear(byte[] bitmap, int i) => bitmap[i >> 3] &= (byte)~(1 << (i & 7));

    public static byte[] AllValid(int length)
    {
        var bits = new byte[(length + 7) / 8];
        bits.AsSpan().Fill(0xFF);
        return bits;
    }

    public static int CountNulls(byte[]? validity, int length)
    {
        if (validity is null) return 0;
        int valid = 0;
        int full = length >> 3;
        for (int i = 0; i < full; i++) valid += System.Numerics.BitOperations.PopCount(validity[i]);
        for (int i = full << 3; i < length; i++) if ((validity[i >> 3] & (1 << (i & 7))) != 0) valid++;
        return length - valid;
    }

    /// <summary>An array over <paramref name="values"/> (length * sizeof(T) bytes) and a validity bitmap; no copy.</summary>
    public static IArrowArray Fixed(SqlType type, byte[] values, byte[]? validity, int length)
    {
        int nulls = CountNulls(validity, length);
        var data = new ArrayData(ArrowTypes.ToArrow(type), length, nulls, 0,
            [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity!), new ArrowBuffer(values)]);
        return ArrowArrayFactory.BuildArray(data);
    }

    public static byte[] Allocate<T>(int length, out Span<T> values) where T : unmanaged
    {
        var bytes = new byte[length * Marshal.SizeOf<T>()];
        values = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        return bytes;
    }

    /// <summary>A BOOLEAN array from a values bitmap and a validity bitmap.</summary>
    public static BooleanArray Boolean(byte[] values, byte[]? validity, int length)
    {
        int nulls = CountNulls(validity, length);
        return new BooleanArray(new ArrayData(BooleanType.Default, length, nulls, 0,
            [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity!), new ArrowBuffer(values)]));
    }

    /// <summary>An array of <paramref name="length"/> NULLs of any type (nested ones with empty or all-NULL children).</summary>
    public static IArrowArray Nulls(SqlType type, int length)
    {
        var validity = new byte[(length + 7) / 8];
        var arrow = ArrowTypes.ToArrow(type);
        ArrayData data = type.Kind switch
        {
            SqlTypeKind.Varchar or SqlTypeKind.Blob => new ArrayData(arrow, length, length, 0,
                [new ArrowBuffer(validity), new ArrowBuffer(new byte[(length + 1) * 4]), ArrowBuffer.Empty]),
            SqlTypeKind.List or SqlTypeKind.Map => new ArrayData(arrow, length, length, 0,
                [new ArrowBuffer(validity), new ArrowBuffer(new byte[(length + 1) * 4])],
                [Nulls(type.Kind == SqlTypeKind.List ? type.Element! : MapEntries(type), 0).Data]),
            SqlTypeKind.Struct => new ArrayData(arrow, length, length, 0, [new ArrowBuffer(validity)],
                type.Fields!.Select(f => Nulls(f.Type, length).Data).ToArray()),
            SqlTypeKind.Boolean or SqlTypeKind.Null => new ArrayData(arrow, length, length, 0, [new ArrowBuffer(validity), new ArrowBuffer(new byte[(length + 7) / 8])]),
            _ => new ArrayData(arrow, length, length, 0, [new ArrowBuffer(validity), new ArrowBuffer(new byte[length * Width(type)])]),
        };
        return ArrowArrayFactory.BuildArray(data);
    }

    /// <summary>The entries of a MAP as the struct Arrow stores them.</summary>
    public static SqlType MapEntries(SqlType map) =>
        SqlType.Struct([new StructField("key", map.Key!, false), new StructField("value", map.Value!)]);

    /// <summary>Bytes per value of a fixed-width type.</summary>
    public static int Width(SqlType type) => type.Kind switch
    {
        SqlTypeKind.Integer or SqlTypeKind.Real or SqlTypeKind.Date => 4,
        SqlTypeKind.BigInt or SqlTypeKind.Double or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz => 8,
        SqlTypeKind.Decimal or SqlTypeKind.Interval or SqlTypeKind.Uuid => 16,
        SqlTypeKind.Fixed => type.Precision,
        _ => throw new NotSupportedException($"{type} is not fixed-width"),
    };

    /// <summary>Replaces the validity of an array (same values): for kernels that only add NULLs.</summary>
    public static IArrowArray WithValidity(IArrowArray array, byte[]? validity)
    {
        var d = array.Data;
        int nulls = CountNulls(validity, d.Length);
        if (d.Offset != 0)
            throw new InvalidOperationException("WithValidity expects an unsliced array");
        var buffers = (ArrowBuffer[])d.Buffers.Clone();
        buffers[0] = nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity!);
        return ArrowArrayFactory.BuildArray(new ArrayData(d.DataType, d.Length, nulls, 0, buffers, d.Children, d.Dictionary));
    }
}
