using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>All-null Arrow arrays of any type: what a column added after a data file was written reads as.</summary>
internal static class NullArrays
{
    public static IArrowArray Of(IArrowType type, int length) => ArrowArrayFactory.BuildArray(Data(type, length));

    private static ArrayData Data(IArrowType type, int length)
    {
        var validity = new ArrowBuffer(new byte[(length + 7) / 8]);
        return type switch
        {
            StructType s => new ArrayData(type, length, length, 0, [validity], s.Fields.Select(f => Data(f.DataType, length))),
            MapType m => new ArrayData(type, length, length, 0, [validity, Zeros((length + 1) * 4)], [Data(m.KeyValueType, 0)]),
            ListType l => new ArrayData(type, length, length, 0, [validity, Zeros((length + 1) * 4)], [Data(l.ValueDataType, 0)]),
            StringType or BinaryType => new ArrayData(type, length, length, 0, [validity, Zeros((length + 1) * 4), ArrowBuffer.Empty]),
            BooleanType => new ArrayData(type, length, length, 0, [validity, Zeros((length + 7) / 8)]),
            FixedWidthType f => new ArrayData(type, length, length, 0, [validity, Zeros(length * ((f.BitWidth + 7) / 8))]),
            _ => throw new NotSupportedException($"No null array for Arrow type {type.Name}."),
        };
    }

    private static ArrowBuffer Zeros(int bytes) => new(new byte[bytes]);
}
