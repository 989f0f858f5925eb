using System.Buffers.Binary;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using Apache.Arrow.Types;
using DataPlane.Iceberg.Types;
using DataPlane.SqlTransforms.Types;
using IcebergListType = DataPlane.Iceberg.Types.ListType;
using IcebergMapType = DataPlane.Iceberg.Types.MapType;
using IcebergStructType = DataPlane.Iceberg.Types.StructType;

namespace DataPlane.Commands;

/// <summary>
/// A value of a scanned row as DuckDB shows it (its cast to VARCHAR): scalars as the SQL engine writes them
/// (<see cref="ValueText"/>), uuids with dashes, bytes with <c>\xHH</c> escapes, structs as <c>{'a': 1}</c>, lists as
/// <c>[1, 2]</c>, maps as <c>{k=v}</c>, a value inside them quoted when its text would read ambiguously, and NULL.
/// </summary>
internal static class ScanValueText
{
    public static string Format(IArrowArray array, int row, IcebergType type) => Format(array, row, type, nested: false);

    private static string Format(IArrowArray array, int row, IcebergType type, bool nested)
    {
        if (array.IsNull(row))
            return "NULL";
        switch (type)
        {
            case IcebergStructType s:
            {
                var structArray = (StructArray)array;
                var fields = s.Fields.Select((f, i) => ValueText.Quoted(f.Name) + ": " + Format(structArray.Fields[i], row, f.Type, nested: true));
                return "{" + string.Join(", ", fields) + "}";
            }
            case IcebergMapType m:
            {
                var map = (MapArray)array;
                int start = map.ValueOffsets[row], end = map.ValueOffsets[row + 1];
                var entries = Enumerable.Range(start, end - start).Select(k => Format(map.Keys, k, m.KeyType, nested: true) + "=" + Format(map.Values, k, m.ValueType, nested: true));
                return "{" + string.Join(", ", entries) + "}";
            }
            case IcebergListType l:
            {
                var list = (Apache.Arrow.ListArray)array;
                var values = list.GetSlicedValues(row);
                return "[" + string.Join(", ", Enumerable.Range(0, values.Length).Select(k => Format(values, k, l.ElementType, nested: true))) + "]";
            }
        }
        var text = Scalar(array, row, type);
        return nested ? ValueText.Nested(text) : text;
    }

    private static string Scalar(IArrowArray array, int row, IcebergType type) => array switch
    {
        BooleanArray a => a.GetValue(row)!.Value ? "true" : "false",
        Int32Array a => a.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Int64Array a => a.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        FloatArray a => ValueText.Real(a.GetValue(row)!.Value),
        DoubleArray a => ValueText.Double(a.GetValue(row)!.Value),
        Decimal128Array a => ValueText.Decimal(BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + row) * 16, 16)), ((Decimal128Type)a.Data.DataType).Scale),
        Date32Array a => ValueText.Date(a.Values[row]),
        Time64Array a => ValueText.Time(Micros(a.Values[row], ((Time64Type)a.Data.DataType).Unit)),
        TimestampArray a => ValueText.Timestamp(Micros(a.Values[row], ((TimestampType)a.Data.DataType).Unit), !string.IsNullOrEmpty(((TimestampType)a.Data.DataType).Timezone)),
        StringArray a => a.GetString(row),
        FixedSizeBinaryArray a when type.TypeId == TypeId.Uuid => new Guid(a.GetBytes(row), bigEndian: true).ToString(),
        FixedSizeBinaryArray a => ValueText.Blob(a.GetBytes(row)),
        BinaryArray a => ValueText.Blob(a.GetBytes(row)),
        _ => $"<{array.Data.DataType.Name}>",
    };

    private static long Micros(long value, TimeUnit unit) => unit switch
    {
        TimeUnit.Second => value * 1_000_000,
        TimeUnit.Millisecond => value * 1000,
        TimeUnit.Nanosecond => value / 1000,
        _ => value,
    };
}
