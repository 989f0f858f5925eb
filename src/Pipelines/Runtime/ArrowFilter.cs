using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.Pipelines.Runtime;

/// <summary>Keeps the rows of an Arrow array whose mask entry is true (Arrow's C# library has no compute kernels).</summary>
internal static class ArrowFilter
{
    public static IArrowArray Apply(IArrowArray array, bool[] keep, int kept)
    {
        var data = array.Data;
        var validity = new ArrowBuffer.BitmapBuilder(kept);
        for (int i = 0; i < keep.Length; i++)
            if (keep[i])
                validity.Append(array.IsValid(i));
        int nulls = validity.UnsetBitCount;
        var validityBuffer = nulls == 0 ? ArrowBuffer.Empty : validity.Build();

        ArrowBuffer[] buffers;
        ArrayData[]? children = null;
        switch (data.DataType)
        {
            case StructType:
            {
                children = ((StructArray)array).Fields
                    .Select(child => Apply(data.Offset == 0 && child.Length == keep.Length ? child : ArrowArrayFactory.Slice(child, data.Offset, data.Length), keep, kept).Data)
                    .ToArray();
                buffers = [validityBuffer];
                break;
            }
            case ListType or MapType:
            {
                // MapArray is a ListArray of key-value structs: keep each kept row's range of entries.
                var source = (ListArray)array;
                var offsets = source.ValueOffsets;
                var entries = new bool[source.Values.Length];
                var newOffsets = new ArrowBuffer.Builder<int>(kept + 1).Append(0);
                int entriesKept = 0;
                for (int i = 0; i < keep.Length; i++)
                {
                    if (!keep[i]) continue;
                    for (int j = offsets[i]; j < offsets[i + 1]; j++)
                        entries[j] = true;
                    entriesKept += offsets[i + 1] - offsets[i];
                    newOffsets.Append(entriesKept);
                }
                children = [Apply(source.Values, entries, entriesKept).Data];
                buffers = [validityBuffer, newOffsets.Build()];
                break;
            }
            case BooleanType:
            {
                var source = (BooleanArray)array;
                var values = new ArrowBuffer.BitmapBuilder(kept);
                for (int i = 0; i < keep.Length; i++)
                    if (keep[i])
                        values.Append(source.GetValue(i) ?? false);
                buffers = [validityBuffer, values.Build()];
                break;
            }
            case BinaryType or StringType:
            {
                var source = (BinaryArray)array;
                var offsets = new ArrowBuffer.Builder<int>(kept + 1).Append(0);
                var bytes = new ArrowBuffer.Builder<byte>();
                for (int i = 0; i < keep.Length; i++)
                {
                    if (!keep[i]) continue;
                    bytes.Append(source.GetBytes(i));
                    offsets.Append(bytes.Length);
                }
                buffers = [validityBuffer, offsets.Build(), bytes.Build()];
                break;
            }
            case FixedWidthType fixedWidth:
            {
                int width = fixedWidth.BitWidth / 8;
                var source = data.Buffers[1].Span[(data.Offset * width)..];
                var bytes = new ArrowBuffer.Builder<byte>(kept * width);
                for (int i = 0; i < keep.Length; i++)
                    if (keep[i])
                        bytes.Append(source.Slice(i * width, width));
                buffers = [validityBuffer, bytes.Build()];
                break;
            }
            default:
                throw new NotSupportedException($"Filtering {data.DataType.Name} columns is not supported.");
        }
        return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, kept, nulls, 0, buffers, children));
    }
}
