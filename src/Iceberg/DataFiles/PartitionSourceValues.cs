using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A partition source column's value at a row, in the in-memory form the partition transforms take
/// (days as int, timestamps as long micros, strings, decimals, uuids as Guid: see <see cref="Conversions"/>).
/// </summary>
internal static class PartitionSourceValues
{
    public static object? At(IArrowArray array, PrimitiveType type, int row)
    {
        if (array.IsNull(row)) return null;
        return array switch
        {
            BooleanArray b => b.GetValue(row),
            Int32Array i => i.Values[row],
            Date32Array d => d.Values[row],
            Int64Array l => l.Values[row],
            TimestampArray t => t.Values[row],
            Time64Array t => t.Values[row],
            FloatArray f => f.Values[row],
            DoubleArray d => d.Values[row],
            Decimal128Array d => new DecimalValue(
                System.Buffers.Binary.BinaryPrimitives.ReadInt128LittleEndian(d.ValueBuffer.Span.Slice((d.Offset + row) * 16, 16)),
                ((Apache.Arrow.Types.Decimal128Type)d.Data.DataType).Scale),
            StringArray s => s.GetString(row),
            BinaryArray b => b.GetBytes(row).ToArray(),
            FixedSizeBinaryArray f when type.TypeId == TypeId.Uuid => new Guid(f.GetBytes(row), bigEndian: true),
            FixedSizeBinaryArray f => f.GetBytes(row).ToArray(),
            _ => throw new NotSupportedException($"Cannot partition by a column of Arrow type {array.Data.DataType.Name}."),
        };
    }
}
