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
        switch (data.DataType)
        {
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
        return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, kept, nulls, 0, buffers));
    }
}
