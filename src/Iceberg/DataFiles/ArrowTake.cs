using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Memory;
using Apache.Arrow.Types;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Gathers the given rows of a batch, in the given order, into new buffers with one pass per buffer (Arrow's "take").
/// Fixed-width, boolean, string/binary, struct, list and map columns are copied directly; any other layout falls
/// back to concatenating slices of its runs of consecutive rows.
/// </summary>
internal static class ArrowTake
{
    public static RecordBatch Take(RecordBatch batch, ReadOnlySpan<int> rows)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++)
            columns[c] = ArrowArrayFactory.BuildArray(Take(batch.Column(c).Data, rows));
        return new RecordBatch(batch.Schema, columns, rows.Length);
    }

    /// <param name="rows">Logical row numbers of <paramref name="data"/> (its offset not yet applied).</param>
    public static ArrayData Take(ArrayData data, ReadOnlySpan<int> rows)
    {
        switch (data.DataType.TypeId)
        {
            case ArrowTypeId.Boolean:
            {
                var (validity, nulls) = Validity(data, rows);
                var bits = new byte[BitBytes(rows.Length)];
                var source = data.Buffers[1].Span;
                for (int i = 0; i < rows.Length; i++)
                    if (BitUtility.GetBit(source, data.Offset + rows[i])) BitUtility.SetBit(bits, i);
                return new ArrayData(data.DataType, rows.Length, nulls, 0, [validity, new ArrowBuffer(bits)]);
            }
            case ArrowTypeId.String or ArrowTypeId.Binary:
                return Binary(data, rows);
            case ArrowTypeId.Struct:
            {
                var (validity, nulls) = Validity(data, rows);
                var childRows = Shifted(rows, data.Offset);
                var children = data.Children.Select(child => Take(child, childRows)).ToArray();
                return new ArrayData(data.DataType, rows.Length, nulls, 0, [validity], children);
            }
            case ArrowTypeId.List or ArrowTypeId.Map:
                return Nested(data, rows);
        }
        if (data.DataType is FixedWidthType { BitWidth: var bitWidth } && bitWidth % 8 == 0 && data.Dictionary is null)
            return FixedWidth(data, rows, bitWidth / 8);
        return ByRuns(data, rows);
    }

    private static ArrayData FixedWidth(ArrayData data, ReadOnlySpan<int> rows, int width)
    {
        var (validity, nulls) = Validity(data, rows);
        var values = new byte[rows.Length * width];
        var source = data.Buffers[1].Span[(data.Offset * width)..];
        var target = values.AsSpan();
        switch (width)
        {
            // The common widths copy whole values rather than bytes.
            case 8: Copy(MemoryMarshal.Cast<byte, long>(source), MemoryMarshal.Cast<byte, long>(target), rows); break;
            case 4: Copy(MemoryMarshal.Cast<byte, int>(source), MemoryMarshal.Cast<byte, int>(target), rows); break;
            case 16: Copy(MemoryMarshal.Cast<byte, Int128>(source), MemoryMarshal.Cast<byte, Int128>(target), rows); break;
            default:
                for (int i = 0; i < rows.Length; i++)
                    source.Slice(rows[i] * width, width).CopyTo(target.Slice(i * width, width));
                break;
        }
        return new ArrayData(data.DataType, rows.Length, nulls, 0, [validity, new ArrowBuffer(values)]);
    }

    private static void Copy<T>(ReadOnlySpan<T> source, Span<T> target, ReadOnlySpan<int> rows) where T : unmanaged
    {
        for (int i = 0; i < rows.Length; i++)
            target[i] = source[rows[i]];
    }

    private static ArrayData Binary(ArrayData data, ReadOnlySpan<int> rows)
    {
        var (validity, nulls) = Validity(data, rows);
        var sourceOffsets = MemoryMarshal.Cast<byte, int>(data.Buffers[1].Span)[data.Offset..];
        var sourceBytes = data.Buffers[2].Span;
        var offsetBytes = new byte[(rows.Length + 1) * sizeof(int)];
        var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
        long total = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            offsets[i] = (int)total;
            total += sourceOffsets[rows[i] + 1] - sourceOffsets[rows[i]];
        }
        offsets[rows.Length] = (int)total;
        var bytes = new byte[total];
        for (int i = 0; i < rows.Length; i++)
        {
            int start = sourceOffsets[rows[i]];
            sourceBytes[start..sourceOffsets[rows[i] + 1]].CopyTo(bytes.AsSpan(offsets[i]));
        }
        return new ArrayData(data.DataType, rows.Length, nulls, 0, [validity, new ArrowBuffer(offsetBytes), new ArrowBuffer(bytes)]);
    }

    /// <summary>Lists and maps: new offsets, and the elements of the taken rows gathered from the child.</summary>
    private static ArrayData Nested(ArrayData data, ReadOnlySpan<int> rows)
    {
        var (validity, nulls) = Validity(data, rows);
        var sourceOffsets = MemoryMarshal.Cast<byte, int>(data.Buffers[1].Span)[data.Offset..];
        var offsetBytes = new byte[(rows.Length + 1) * sizeof(int)];
        var offsets = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
        int total = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            offsets[i] = total;
            total += sourceOffsets[rows[i] + 1] - sourceOffsets[rows[i]];
        }
        offsets[rows.Length] = total;
        var elements = new int[total];
        for (int i = 0, k = 0; i < rows.Length; i++)
            for (int e = sourceOffsets[rows[i]]; e < sourceOffsets[rows[i] + 1]; e++)
                elements[k++] = e;
        return new ArrayData(data.DataType, rows.Length, nulls, 0, [validity, new ArrowBuffer(offsetBytes)], [Take(data.Children[0], elements)]);
    }

    private static ArrayData ByRuns(ArrayData data, ReadOnlySpan<int> rows)
    {
        var array = ArrowArrayFactory.BuildArray(data);
        var slices = new List<IArrowArray>();
        for (int i = 0; i < rows.Length;)
        {
            int start = i++;
            while (i < rows.Length && rows[i] == rows[i - 1] + 1) i++;
            slices.Add(ArrowArrayFactory.Slice(array, rows[start], i - start));
        }
        // Concatenating a single slice would hand back the parent's buffers; an empty second one forces the copy.
        if (slices.Count < 2) slices.Add(ArrowArrayFactory.Slice(array, 0, 0));
        return ArrowArrayConcatenator.Concatenate(slices, MemoryAllocator.Default.Value).Data;
    }

    /// <summary>The validity bitmap of the taken rows (empty when none is null) and their null count.</summary>
    private static (ArrowBuffer Validity, int Nulls) Validity(ArrayData data, ReadOnlySpan<int> rows)
    {
        if (data.NullCount == 0 || data.Buffers[0].IsEmpty) return (ArrowBuffer.Empty, 0);
        var source = data.Buffers[0].Span;
        var bits = new byte[BitBytes(rows.Length)];
        int nulls = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            if (BitUtility.GetBit(source, data.Offset + rows[i])) BitUtility.SetBit(bits, i);
            else nulls++;
        }
        return nulls == 0 ? (ArrowBuffer.Empty, 0) : (new ArrowBuffer(bits), nulls);
    }

    private static int[] Shifted(ReadOnlySpan<int> rows, int offset)
    {
        var shifted = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++) shifted[i] = rows[i] + offset;
        return shifted;
    }

    private static int BitBytes(int bits) => (bits + 7) / 8;
}
