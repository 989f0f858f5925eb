using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Builds a new array from chosen rows of another (index -1 gives NULL): how a filter compacts a batch, a sort
/// reorders one, UNNEST repeats parent rows and a hash aggregate collects its keys. Every Arrow type the engine
/// reads, nested ones by gathering their children.
/// </summary>
internal static class Gather
{
    public static IArrowArray Take(IArrowArray array, ReadOnlySpan<int> indices)
    {
        var data = array.Data;
        int n = indices.Length;
        var validity = new byte[(n + 7) / 8];
        bool sourceHasNulls = array.NullCount > 0;
        int nulls = 0;
        for (int i = 0; i < n; i++)
        {
            int j = indices[i];
            if (j >= 0 && (!sourceHasNulls || array.IsValid(j))) Vectors.Set(validity, i);
            else nulls++;
        }
        var validityBuffer = nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity);
        switch (data.DataType)
        {
            case BooleanType:
            {
                var source = (BooleanArray)array;
                var values = new byte[(n + 7) / 8];
                for (int i = 0; i < n; i++)
                    if (indices[i] >= 0 && source.GetValue(indices[i]) == true) Vectors.Set(values, i);
                return new BooleanArray(new ArrayData(BooleanType.Default, n, nulls, 0, [validityBuffer, new ArrowBuffer(values)]));
            }
            case StringType or BinaryType:
            {
                // Sized in one pass over the offsets, then copied: no growing buffer, no per-row GetBytes.
                var source = (BinaryArray)array;
                var from = source.ValueOffsets;
                var fromBytes = source.ValueBuffer.Span;
                long total = 0;
                for (int i = 0; i < n; i++)
                {
                    int j = indices[i];
                    if (j >= 0) total += from[j + 1] - from[j];
                }
                if (total > Array.MaxLength) throw new InvalidOperationException("a string column of one batch passed 2 GB");
                var bytes = new byte[total];
                var offsetBytes = new byte[(n + 1) * 4];
                var to = MemoryMarshal.Cast<byte, int>(offsetBytes.AsSpan());
                int at = 0;
                for (int i = 0; i < n; i++)
                {
                    int j = indices[i];
                    if (j >= 0 && (nulls == 0 || Vectors.Get(validity, i)))
                    {
                        int start = from[j], length = from[j + 1] - start;
                        fromBytes.Slice(start, length).CopyTo(bytes.AsSpan(at));
                        at += length;
                    }
                    to[i + 1] = at;
                }
                return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0,
                    [validityBuffer, new ArrowBuffer(offsetBytes), new ArrowBuffer(bytes.AsMemory(0, at))]));
            }
            case ListType or MapType:
            {
                var source = (ListArray)array;
                var offsets = source.ValueOffsets;
                var newOffsets = new int[n + 1];
                int total = 0;
                for (int i = 0; i < n; i++)
                {
                    int j = indices[i];
                    if (j >= 0) total += offsets[j + 1] - offsets[j];
                    newOffsets[i + 1] = total;
                }
                var childIndices = new int[total];
                int k = 0;
                for (int i = 0; i < n; i++)
                {
                    int j = indices[i];
                    if (j < 0) continue;
                    for (int e = offsets[j]; e < offsets[j + 1]; e++) childIndices[k++] = e;
                }
                var child = Take(source.Values, childIndices);
                var offsetBytes = new byte[(n + 1) * 4];
                Buffer.BlockCopy(newOffsets, 0, offsetBytes, 0, offsetBytes.Length);
                return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, [validityBuffer, new ArrowBuffer(offsetBytes)], [child.Data]));
            }
            case StructType:
            {
                var source = (StructArray)array;
                var children = new ArrayData[source.Fields.Count];
                Span<int> shifted = n <= 1024 ? stackalloc int[n] : new int[n];
                for (int i = 0; i < n; i++) shifted[i] = indices[i] < 0 ? -1 : indices[i] + data.Offset;
                // the children of a sliced struct are not sliced themselves: index them past the struct's offset
                for (int c = 0; c < children.Length; c++)
                    children[c] = Take(source.Fields[c], shifted).Data;
                return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, [validityBuffer], children));
            }
            case FixedWidthType fixedWidth:
            {
                int width = fixedWidth.BitWidth / 8;
                var source = data.Buffers[1].Span.Slice(data.Offset * width);
                var bytes = new byte[n * width];
                switch (width)
                {
                    case 4: Copy<int>(source, bytes, indices); break;
                    case 8: Copy<long>(source, bytes, indices); break;
                    case 16: Copy<Int128>(source, bytes, indices); break;
                    default:
                        for (int i = 0; i < n; i++)
                            if (indices[i] >= 0) source.Slice(indices[i] * width, width).CopyTo(bytes.AsSpan(i * width));
                        break;
                }
                return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, [validityBuffer, new ArrowBuffer(bytes)]));
            }
            default:
                throw new NotSupportedException($"Gathering {data.DataType.Name} columns is not supported.");
        }
    }

    private static void Copy<T>(ReadOnlySpan<byte> source, byte[] target, ReadOnlySpan<int> indices) where T : unmanaged
    {
        var from = MemoryMarshal.Cast<byte, T>(source);
        var to = MemoryMarshal.Cast<byte, T>(target.AsSpan());
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            to[i] = j >= 0 ? from[j] : default;
        }
    }
}
