using System.Text;
using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Single values (in the representation <see cref="Values"/> describes) to and from Arrow arrays. For constants,
/// constant folding and tests: slow, general, never on a per-row hot path.
/// </summary>
internal static class ValueArrays
{
    public static IArrowArray Repeat(object? value, SqlType type, int length)
    {
        if (value is null) return Vectors.Nulls(type, length);
        var items = new object?[length];
        Array.Fill(items, value);
        return FromValues(type, items);
    }

    public static IArrowArray FromValues(SqlType type, IReadOnlyList<object?> values)
    {
        int n = values.Count;
        var validity = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++) if (values[i] is not null) Vectors.Set(validity, i);
        switch (type.Kind)
        {
            case SqlTypeKind.Null:
                return Vectors.Nulls(type, n);
            case SqlTypeKind.Boolean:
            {
                var bits = new byte[(n + 7) / 8];
                for (int i = 0; i < n; i++) if (values[i] is true) Vectors.Set(bits, i);
                return Vectors.Boolean(bits, validity, n);
            }
            case SqlTypeKind.Integer or SqlTypeKind.Date: return Fixed<int>(type, values, validity);
            case SqlTypeKind.BigInt or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz: return Fixed<long>(type, values, validity);
            case SqlTypeKind.Real: return Fixed<float>(type, values, validity);
            case SqlTypeKind.Double: return Fixed<double>(type, values, validity);
            case SqlTypeKind.Decimal: return Fixed<Int128>(type, values, validity);
            case SqlTypeKind.Interval: return Fixed<IntervalValue>(type, values, validity);
            case SqlTypeKind.Uuid:
            {
                var bytes = new byte[n * 16];
                for (int i = 0; i < n; i++)
                    if (values[i] is Guid g) g.TryWriteBytes(bytes.AsSpan(i * 16), bigEndian: true, out _);
                return Vectors.Fixed(type, bytes, validity, n);
            }
            case SqlTypeKind.Fixed:
            {
                var bytes = new byte[n * type.Precision];
                for (int i = 0; i < n; i++)
                    if (values[i] is byte[] b) b.CopyTo(bytes.AsSpan(i * type.Precision));
                return Vectors.Fixed(type, bytes, validity, n);
            }
            case SqlTypeKind.Varchar or SqlTypeKind.Blob:
            {
                var builder = new Utf8Builder(n, 16);
                foreach (var v in values)
                {
                    if (v is null) builder.AppendNull();
                    else builder.Append(v is string s ? Encoding.UTF8.GetBytes(s) : (byte[])v);
                }
                return builder.Build(binary: type.Kind == SqlTypeKind.Blob);
            }
            case SqlTypeKind.List or SqlTypeKind.Map:
            {
                var offsets = new int[n + 1];
                var items = new List<object?>();
                for (int i = 0; i < n; i++)
                {
                    if (values[i] is object?[] list) items.AddRange(list);
                    offsets[i + 1] = items.Count;
                }
                var child = FromValues(type.Kind == SqlTypeKind.List ? type.Element! : Vectors.MapEntries(type), items);
                var offsetBytes = new byte[(n + 1) * 4];
                Buffer.BlockCopy(offsets, 0, offsetBytes, 0, offsetBytes.Length);
                int nulls = Vectors.CountNulls(validity, n);
                return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(type), n, nulls, 0,
                    [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity), new ArrowBuffer(offsetBytes)], [child.Data]));
            }
            case SqlTypeKind.Struct:
            {
                var children = new ArrayData[type.Fields!.Count];
                for (int f = 0; f < children.Length; f++)
                {
                    var column = new object?[n];
                    for (int i = 0; i < n; i++) column[i] = values[i] is object?[] fields ? fields[f] : null;
                    children[f] = FromValues(type.Fields[f].Type, column).Data;
                }
                int nulls = Vectors.CountNulls(validity, n);
                return ArrowArrayFactory.BuildArray(new ArrayData(ArrowTypes.ToArrow(type), n, nulls, 0,
                    [nulls == 0 ? ArrowBuffer.Empty : new ArrowBuffer(validity)], children));
            }
        }
        throw new NotSupportedException($"No array of {type}");
    }

    private static IArrowArray Fixed<T>(SqlType type, IReadOnlyList<object?> values, byte[] validity) where T : unmanaged
    {
        var bytes = Vectors.Allocate<T>(values.Count, out var span);
        for (int i = 0; i < values.Count; i++) if (values[i] is T v) span[i] = v;
        return Vectors.Fixed(type, bytes, validity, values.Count);
    }

    /// <summary>The value at <paramref name="row"/>, or null.</summary>
    public static object? Get(IArrowArray array, SqlType type, int row)
    {
        if (array.IsNull(row)) return null;
        switch (type.Kind)
        {
            case SqlTypeKind.Null: return null;
            case SqlTypeKind.Boolean: return ((BooleanArray)array).GetValue(row);
            case SqlTypeKind.Integer or SqlTypeKind.Date: return Vectors.Values<int>(array)[row];
            case SqlTypeKind.BigInt or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz: return Vectors.Values<long>(array)[row];
            case SqlTypeKind.Real: return Vectors.Values<float>(array)[row];
            case SqlTypeKind.Double: return Vectors.Values<double>(array)[row];
            case SqlTypeKind.Decimal: return Vectors.Values<Int128>(array)[row];
            case SqlTypeKind.Interval: return Vectors.Values<IntervalValue>(array)[row];
            case SqlTypeKind.Uuid: return new Guid(array.Data.Buffers[1].Span.Slice((array.Data.Offset + row) * 16, 16), bigEndian: true);
            case SqlTypeKind.Varchar: return Encoding.UTF8.GetString(((BinaryArray)array).GetBytes(row));
            case SqlTypeKind.Blob: return ((BinaryArray)array).GetBytes(row).ToArray();
            case SqlTypeKind.Fixed: return array.Data.Buffers[1].Span.Slice((array.Data.Offset + row) * type.Precision, type.Precision).ToArray();
            case SqlTypeKind.List or SqlTypeKind.Map:
            {
                var list = (ListArray)array;
                var offsets = list.ValueOffsets;
                var elementType = type.Kind == SqlTypeKind.List ? type.Element! : Vectors.MapEntries(type);
                var items = new object?[offsets[row + 1] - offsets[row]];
                for (int i = 0; i < items.Length; i++) items[i] = Get(list.Values, elementType, offsets[row] + i);
                return items;
            }
            case SqlTypeKind.Struct:
            {
                var s = (StructArray)array;
                var fields = new object?[type.Fields!.Count];
                for (int f = 0; f < fields.Length; f++) fields[f] = Get(s.Fields[f], type.Fields[f].Type, row + array.Data.Offset);
                return fields;
            }
        }
        throw new NotSupportedException($"No value of {type}");
    }
}
