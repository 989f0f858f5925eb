using System.Buffers.Binary;
using Apache.Arrow;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// A row's ORDER BY values as bytes whose byte order is the SQL order (DuckDB's: NaN above every number, -0.0 equal
/// to 0.0, text by code point, NULLs last unless NULLS FIRST), so kept rows compare with one span comparison and a
/// new row is compared without allocating. Per column: a NULL marker, then the value big-endian with the sign bit
/// flipped (floats: every bit flipped when negative); text and blobs with 0x00 escaped as 0x00 0xFF and ended by
/// 0x00 0x00, so a prefix sorts first. DESC inverts the value's bytes, not the NULL marker.
/// </summary>
internal sealed class OrderKeyCodec(IReadOnlyList<SqlType> types, IReadOnlyList<SortKey> keys)
{
    private byte[] _buffer = new byte[64];
    private int _length;

    /// <summary>Whether a type can be ordered here (flat values with a total order DuckDB shares).</summary>
    public static bool Supports(SqlType type) => !type.IsNested && type.Kind is not (SqlTypeKind.Interval or SqlTypeKind.Uuid or SqlTypeKind.Fixed);

    /// <summary>The ORDER BY key of <paramref name="row"/> (<paramref name="columns"/> in key order), valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(IArrowArray[] columns, int row)
    {
        _length = 0;
        for (int c = 0; c < columns.Length; c++)
        {
            var array = columns[c];
            var type = types[c];
            bool nullsFirst = keys[c].NullsFirst;
            if (type.Kind == SqlTypeKind.Null || array.IsNull(row))
            {
                Reserve(1);
                _buffer[_length++] = nullsFirst ? (byte)0 : (byte)2;
                continue;
            }
            Reserve(1);
            _buffer[_length++] = 1;
            int start = _length;
            switch (type.Kind)
            {
                case SqlTypeKind.Boolean:
                    Reserve(1);
                    _buffer[_length++] = ((BooleanArray)array).GetValue(row) == true ? (byte)1 : (byte)0;
                    break;
                case SqlTypeKind.Integer or SqlTypeKind.Date:
                    Reserve(4);
                    BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), (uint)Vectors.Values<int>(array)[row] ^ 0x8000_0000u);
                    _length += 4;
                    break;
                case SqlTypeKind.Decimal:
                    Reserve(16);
                    BinaryPrimitives.WriteUInt128BigEndian(_buffer.AsSpan(_length), (UInt128)Vectors.Values<Int128>(array)[row] ^ ((UInt128)1 << 127));
                    _length += 16;
                    break;
                case SqlTypeKind.Real:
                {
                    float f = Vectors.Values<float>(array)[row];
                    uint bits = f == 0 ? 0u : float.IsNaN(f) ? (uint)BitConverter.SingleToInt32Bits(float.NaN) & 0x7FFF_FFFFu : (uint)BitConverter.SingleToInt32Bits(f);
                    Reserve(4);
                    BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u);
                    _length += 4;
                    break;
                }
                case SqlTypeKind.Double:
                {
                    double d = Vectors.Values<double>(array)[row];
                    ulong bits = d == 0 ? 0ul : double.IsNaN(d) ? (ulong)BitConverter.DoubleToInt64Bits(double.NaN) & 0x7FFF_FFFF_FFFF_FFFFul : (ulong)BitConverter.DoubleToInt64Bits(d);
                    Reserve(8);
                    BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(_length), (bits & 0x8000_0000_0000_0000ul) != 0 ? ~bits : bits | 0x8000_0000_0000_0000ul);
                    _length += 8;
                    break;
                }
                case SqlTypeKind.Varchar or SqlTypeKind.Blob:
                {
                    var bytes = ((BinaryArray)array).GetBytes(row);
                    Reserve(bytes.Length * 2 + 2);
                    foreach (byte b in bytes)
                    {
                        _buffer[_length++] = b;
                        if (b == 0) _buffer[_length++] = 0xFF;
                    }
                    _buffer[_length++] = 0;
                    _buffer[_length++] = 0;
                    break;
                }
                default: // BIGINT, TIMESTAMP, TIMESTAMPTZ, TIME: 64-bit integers
                    Reserve(8);
                    BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(_length), (ulong)Vectors.Values<long>(array)[row] ^ 0x8000_0000_0000_0000ul);
                    _length += 8;
                    break;
            }
            if (keys[c].Descending)
                for (int i = start; i < _length; i++) _buffer[i] = (byte)~_buffer[i];
        }
        return _buffer.AsSpan(0, _length);
    }

    private void Reserve(int more)
    {
        if (_length + more > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_length + more, _buffer.Length * 2));
    }
}
