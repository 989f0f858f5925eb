using System.Buffers.Binary;
using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// A row's group key as bytes, column after column: a NULL flag, then the value (fixed-width values as stored,
/// -0.0 as 0.0 and every NaN as one NaN so GROUP BY groups them together; strings and blobs length-prefixed).
/// Encoding writes into a reused buffer; <see cref="Decode"/> builds the key columns of emitted groups. An
/// <c>exact</c> codec keeps -0.0 and every NaN as they are: it stores whole rows (a top-N's), not group keys.
/// </summary>
internal sealed class KeyCodec(IReadOnlyList<SqlType> types, bool exact = false)
{
    private byte[] _buffer = new byte[64];

    public IReadOnlyList<SqlType> Types { get; } = types;

    /// <summary>Whether every type can be a key here, encoded and decoded (flat types: nested keys group over bounded input only; <see cref="Encode"/> takes any).</summary>
    public static bool Supports(SqlType type) => !type.IsNested;

    /// <summary>The key of <paramref name="row"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(IArrowArray[] columns, int row)
    {
        int length = 0;
        for (int c = 0; c < columns.Length; c++) Append(columns[c], Types[c], row, ref length);
        return _buffer.AsSpan(0, length);
    }

    /// <summary>
    /// One value after <paramref name="length"/> bytes. A list or map is its element count then its elements, a struct
    /// its fields, each element and field with its own NULL flag: equal keys are equal values with NULL inside equal
    /// to NULL (DuckDB's equality of nested values, which the list functions use; <see cref="Decode"/> reads flat keys only).
    /// </summary>
    private void Append(IArrowArray array, SqlType type, int row, ref int length)
    {
        if (type.Kind == SqlTypeKind.Null || array.IsNull(row)) { Reserve(length + 1); _buffer[length++] = 0; return; }
        switch (type.Kind)
        {
            case SqlTypeKind.Boolean:
                Reserve(length + 2);
                _buffer[length++] = 1;
                _buffer[length++] = ((BooleanArray)array).GetValue(row) == true ? (byte)1 : (byte)0;
                break;
            case SqlTypeKind.Varchar or SqlTypeKind.Blob:
            {
                var bytes = ((BinaryArray)array).GetBytes(row);
                Reserve(length + 5 + bytes.Length);
                _buffer[length++] = 1;
                BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(length), bytes.Length);
                length += 4;
                bytes.CopyTo(_buffer.AsSpan(length));
                length += bytes.Length;
                break;
            }
            case SqlTypeKind.List or SqlTypeKind.Map:
            {
                var list = (ListArray)array;
                int from = list.ValueOffsets[row], to = list.ValueOffsets[row + 1];
                Reserve(length + 5);
                _buffer[length++] = 1;
                BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(length), to - from);
                length += 4;
                var element = type.Kind == SqlTypeKind.List ? type.Element! : Vectors.MapEntries(type);
                for (int e = from; e < to; e++) Append(list.Values, element, e, ref length);
                break;
            }
            case SqlTypeKind.Struct:
            {
                var fields = ((StructArray)array).Fields;
                Reserve(length + 1);
                _buffer[length++] = 1;
                // the children of a sliced struct are not sliced themselves
                for (int f = 0; f < fields.Count; f++) Append(fields[f], type.Fields![f].Type, row + array.Data.Offset, ref length);
                break;
            }
            default:
            {
                int width = Vectors.Width(type);
                Reserve(length + 1 + width);
                _buffer[length++] = 1;
                var target = _buffer.AsSpan(length, width);
                array.Data.Buffers[1].Span.Slice((array.Data.Offset + row) * width, width).CopyTo(target);
                if (!exact && type.Kind == SqlTypeKind.Double) Canonical(target, BitConverter.ToDouble(target));
                else if (!exact && type.Kind == SqlTypeKind.Real) Canonical(target, BitConverter.ToSingle(target));
                length += width;
                break;
            }
        }
    }

    private static void Canonical(Span<byte> target, double value)
    {
        if (value == 0) target.Clear();
        else if (double.IsNaN(value)) { if (target.Length == 8) BitConverter.TryWriteBytes(target, double.NaN); else BitConverter.TryWriteBytes(target, float.NaN); }
    }

    private void Reserve(int length)
    {
        if (length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(length, _buffer.Length * 2));
    }

    /// <summary>The key columns of the groups <paramref name="ids"/> of <paramref name="table"/>, in that order.</summary>
    public IArrowArray[] Decode(KeyTable table, ReadOnlySpan<int> ids) => Decode(new TableKeys(table, ids));

    /// <summary>The columns of rows encoded one by one (a top-N's kept rows), in that order.</summary>
    public IArrowArray[] Decode(IReadOnlyList<byte[]> rows) => Decode(new ListKeys(rows));

    /// <summary>The columns of rows encoded one after another into <paramref name="bytes"/> (row i from offsets[i] to
    /// offsets[i + 1]: a top-N's rows read back from spilled runs), in that order.</summary>
    public IArrowArray[] Decode(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> offsets) => Decode(new ConcatenatedKeys(bytes, offsets));

    private interface IKeys
    {
        int Count { get; }

        ReadOnlySpan<byte> Key(int i);
    }

    private readonly ref struct TableKeys(KeyTable table, ReadOnlySpan<int> ids) : IKeys
    {
        private readonly ReadOnlySpan<int> _ids = ids;

        public int Count => _ids.Length;

        public ReadOnlySpan<byte> Key(int i) => table.Key(_ids[i]);
    }

    private readonly ref struct ConcatenatedKeys(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> offsets) : IKeys
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private readonly ReadOnlySpan<int> _offsets = offsets;

        public int Count => _offsets.Length - 1;

        public ReadOnlySpan<byte> Key(int i) => _bytes[_offsets[i].._offsets[i + 1]];
    }

    private readonly struct ListKeys(IReadOnlyList<byte[]> rows) : IKeys
    {
        public int Count => rows.Count;

        public ReadOnlySpan<byte> Key(int i) => rows[i];
    }

    private IArrowArray[] Decode<TKeys>(TKeys keys) where TKeys : IKeys, allows ref struct
    {
        int n = keys.Count;
        var result = new IArrowArray[Types.Count];
        var positions = new int[n];
        for (int c = 0; c < Types.Count; c++)
        {
            var type = Types[c];
            var validity = new byte[(n + 7) / 8];
            switch (type.Kind)
            {
                case SqlTypeKind.Null:
                    for (int i = 0; i < n; i++) positions[i]++;
                    result[c] = Vectors.Nulls(type, n);
                    break;
                case SqlTypeKind.Boolean:
                {
                    var bits = new byte[(n + 7) / 8];
                    for (int i = 0; i < n; i++)
                    {
                        var key = keys.Key(i);
                        if (key[positions[i]++] == 0) continue;
                        Vectors.Set(validity, i);
                        if (key[positions[i]++] != 0) Vectors.Set(bits, i);
                    }
                    result[c] = Vectors.Boolean(bits, validity, n);
                    break;
                }
                case SqlTypeKind.Varchar or SqlTypeKind.Blob:
                {
                    var builder = new Utf8Builder(n, 16);
                    for (int i = 0; i < n; i++)
                    {
                        var key = keys.Key(i);
                        if (key[positions[i]++] == 0) { builder.AppendNull(); continue; }
                        int size = BinaryPrimitives.ReadInt32LittleEndian(key[positions[i]..]);
                        positions[i] += 4;
                        builder.Append(key.Slice(positions[i], size));
                        positions[i] += size;
                    }
                    result[c] = builder.Build(binary: type.Kind == SqlTypeKind.Blob);
                    break;
                }
                default:
                {
                    int width = Vectors.Width(type);
                    var values = new byte[n * width];
                    for (int i = 0; i < n; i++)
                    {
                        var key = keys.Key(i);
                        if (key[positions[i]++] == 0) continue;
                        Vectors.Set(validity, i);
                        key.Slice(positions[i], width).CopyTo(values.AsSpan(i * width));
                        positions[i] += width;
                    }
                    result[c] = Vectors.Fixed(type, values, validity, n);
                    break;
                }
            }
        }
        return result;
    }
}
