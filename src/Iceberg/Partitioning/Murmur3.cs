using System.Buffers.Binary;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Arrays;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>
/// 32-bit Murmur3, x86 variant, seed 0: the hash of the bucket transform (spec Appendix B). Public for the SQL
/// engine's murmur3() (and its hash() and xxhash64(), which hash the same bytes), so that SQL computes exactly what a
/// bucket partition does.
/// </summary>
public static class Murmur3
{
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    /// <summary>Whether Appendix B hashes values of this Arrow column (see <see cref="HashInput"/>).</summary>
    public static bool CanHash(IArrowArray array) => array is Int32Array or Date32Array or Int64Array or TimestampArray or Time64Array
        or StringArray or BinaryArray or FixedSizeBinaryArray or Decimal128Array or BooleanArray or FloatArray or DoubleArray;

    /// <summary>The hash of row <paramref name="row"/> (not null) of a column <see cref="CanHash"/> accepts.</summary>
    public static int HashValue(IArrowArray array, int row)
    {
        Span<byte> scratch = stackalloc byte[16];
        return HashBytes(HashInput(array, row, scratch));
    }

    /// <summary>
    /// The bytes Appendix B hashes for row <paramref name="row"/> (not null) of an Arrow column: ints, longs, dates
    /// (days), times and timestamps (microseconds) as the 8-byte little-endian long (so 34 and 34L hash alike); strings
    /// as UTF-8; binary, fixed and uuid (big-endian, as Arrow's uuid holds it) as they are; a decimal as its unscaled
    /// value's minimal big-endian two's complement; and from the table of types not yet bucketed, a boolean as the long
    /// 0 or 1, a float or double as the double's IEEE 754 bits, NaN canonical and -0.0 as 0.0. <paramref name="scratch"/>
    /// holds at least 16 bytes.
    /// </summary>
    public static ReadOnlySpan<byte> HashInput(IArrowArray array, int row, Span<byte> scratch)
    {
        switch (array)
        {
            case Int32Array a: return Long(a.Values[row], scratch);
            case Date32Array a: return Long(a.Values[row], scratch);
            case Int64Array a: return Long(a.Values[row], scratch);
            case TimestampArray a: return Long(a.Values[row], scratch);
            case Time64Array a: return Long(a.Values[row], scratch);
            case BinaryArray a: return a.GetBytes(row); // strings too: their UTF-8 bytes
            case Decimal128Array a:
            {
                var unscaled = BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + row) * 16, 16));
                BinaryPrimitives.WriteInt128BigEndian(scratch, unscaled);
                return scratch[(16 - Types.DecimalValue.MinimalLength(unscaled))..16];
            }
            case FixedSizeBinaryArray a: return a.GetBytes(row); // after Decimal128Array, which is one
            case BooleanArray a: return Long(a.GetValue(row) == true ? 1 : 0, scratch);
            case FloatArray a: return Double(a.Values[row], scratch);
            case DoubleArray a: return Double(a.Values[row], scratch);
            default: throw new NotSupportedException($"Appendix B does not hash an Arrow {array.Data.DataType.Name} column.");
        }
    }

    private static ReadOnlySpan<byte> Long(long value, Span<byte> scratch)
    {
        BinaryPrimitives.WriteInt64LittleEndian(scratch, value);
        return scratch[..8];
    }

    private static ReadOnlySpan<byte> Double(double value, Span<byte> scratch)
    {
        long bits = double.IsNaN(value) ? 0x7ff8000000000000L : value == 0 ? 0 : BitConverter.DoubleToInt64Bits(value);
        return Long(bits, scratch);
    }

    public static int HashLong(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        return HashBytes(b);
    }

    /// <summary>The hash of a decimal: of its unscaled value's minimal big-endian two's complement bytes.</summary>
    public static int HashDecimal(Int128 unscaled)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt128BigEndian(b, unscaled);
        return HashBytes(b[(16 - Types.DecimalValue.MinimalLength(unscaled))..]);
    }

    public static int HashBytes(ReadOnlySpan<byte> data)
    {
        uint h = 0;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            h ^= MixK(k);
            h = BitOperations.RotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        var tail = data[(blocks * 4)..];
        uint k1 = 0;
        switch (tail.Length)
        {
            case 3: k1 ^= (uint)tail[2] << 16; goto case 2;
            case 2: k1 ^= (uint)tail[1] << 8; goto case 1;
            case 1:
                k1 ^= tail[0];
                h ^= MixK(k1);
                break;
        }
        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return (int)h;
    }

    private static uint MixK(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }
}
