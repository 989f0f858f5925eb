using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.TestServices;

/// <summary>Builds Arrow arrays from plain values for tests (nulls where the value is null).</summary>
public static class ArrowColumns
{
    public static ArrowBuffer Validity<T>(IReadOnlyList<T> values, out int nullCount)
    {
        nullCount = values.Count(v => v is null);
        if (nullCount == 0) return ArrowBuffer.Empty;
        var bits = new byte[(values.Count + 7) / 8];
        for (int i = 0; i < values.Count; i++)
            if (values[i] is not null) bits[i / 8] |= (byte)(1 << (i % 8));
        return new ArrowBuffer(bits);
    }

    public static IArrowArray FixedBinary(int width, IReadOnlyList<byte[]?> values)
    {
        var data = new byte[values.Count * width];
        for (int i = 0; i < values.Count; i++)
            values[i]?.CopyTo(data, i * width);
        var validity = Validity(values, out int nulls);
        return ArrowArrayFactory.BuildArray(new ArrayData(new FixedSizeBinaryType(width), values.Count, nulls, 0, [validity, new ArrowBuffer(data)]));
    }

    public static ListArray List(IArrowType listType, IReadOnlyList<int?> lengths, IArrowArray values)
    {
        var offsets = new int[lengths.Count + 1];
        for (int i = 0; i < lengths.Count; i++)
            offsets[i + 1] = offsets[i] + (lengths[i] ?? 0);
        var validity = Validity(lengths, out int nulls);
        return new ListArray(listType, lengths.Count, new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(offsets.AsSpan()).ToArray()), values, validity, nulls);
    }

    public static MapArray Map(MapType mapType, IReadOnlyList<int?> lengths, IArrowArray keys, IArrowArray values)
    {
        var offsets = new int[lengths.Count + 1];
        for (int i = 0; i < lengths.Count; i++)
            offsets[i + 1] = offsets[i] + (lengths[i] ?? 0);
        var validity = Validity(lengths, out int nulls);
        var entries = new StructArray(mapType.KeyValueType, keys.Length, [keys, values], ArrowBuffer.Empty);
        return new MapArray(mapType, lengths.Count, new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(offsets.AsSpan()).ToArray()), entries, validity, nulls);
    }

    public static Int64Array Longs(params long?[] values)
    {
        var b = new Int64Array.Builder();
        foreach (var v in values) if (v is { } x) b.Append(x); else b.AppendNull();
        return b.Build();
    }

    public static Int32Array Ints(params int?[] values)
    {
        var b = new Int32Array.Builder();
        foreach (var v in values) if (v is { } x) b.Append(x); else b.AppendNull();
        return b.Build();
    }

    public static DoubleArray Doubles(params double?[] values)
    {
        var b = new DoubleArray.Builder();
        foreach (var v in values) if (v is { } x) b.Append(x); else b.AppendNull();
        return b.Build();
    }

    public static StringArray Strings(params string?[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values) if (v is null) b.AppendNull(); else b.Append(v);
        return b.Build();
    }

    public static TimestampArray Timestamps(TimestampType type, params long?[] micros)
    {
        var b = new TimestampArray.Builder(type);
        foreach (var v in micros)
            if (v is { } x) b.Append(DateTimeOffset.UnixEpoch.AddTicks(x * 10)); else b.AppendNull();
        return b.Build();
    }

    /// <summary>A decimal128 column from decimal strings (any number of digits up to 38), rescaled to the type's scale.</summary>
    public static Decimal128Array Decimals(Decimal128Type type, params string?[] values)
    {
        var data = new byte[values.Length * 16];
        for (int i = 0; i < values.Length; i++)
            if (values[i] is { } v)
                System.Buffers.Binary.BinaryPrimitives.WriteInt128LittleEndian(data.AsSpan(i * 16),
                    DataPlane.Iceberg.Types.DecimalValue.Parse(v).Rescale(type.Scale).Unscaled);
        var validity = Validity(values, out int nulls);
        return new Decimal128Array(new ArrayData(type, values.Length, nulls, 0, [validity, new ArrowBuffer(data)]));
    }
}
