using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace DataPlane.Iceberg.Types;

/// <summary>
/// The spec's binary single-value serialization (Appendix D), used for lower/upper bounds in manifests.
/// In-memory values of each type: boolean <see cref="bool"/>, int <see cref="int"/>, long <see cref="long"/>,
/// float <see cref="float"/>, double <see cref="double"/>, decimal <see cref="DecimalValue"/> (System.Decimal is accepted as input),
/// date <see cref="int"/> days since 1970-01-01, time <see cref="long"/> microseconds since midnight,
/// timestamp/timestamptz <see cref="long"/> microseconds since the epoch, string <see cref="string"/>,
/// uuid <see cref="Guid"/>, fixed/binary <see cref="byte"/>[].
/// </summary>
public static class Conversions
{
    public static byte[] ToBytes(PrimitiveType type, object value)
    {
        switch (type.TypeId)
        {
            case TypeId.Boolean: return [(bool)value ? (byte)1 : (byte)0];
            case TypeId.Int:
            case TypeId.Date:
            {
                var b = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture));
                return b;
            }
            case TypeId.Long:
            case TypeId.Time:
            case TypeId.Timestamp:
            case TypeId.TimestampTz:
            {
                var b = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(b, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                return b;
            }
            case TypeId.Float:
            {
                var b = new byte[4];
                BinaryPrimitives.WriteSingleLittleEndian(b, (float)value);
                return b;
            }
            case TypeId.Double:
            {
                var b = new byte[8];
                BinaryPrimitives.WriteDoubleLittleEndian(b, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                return b;
            }
            case TypeId.String: return Encoding.UTF8.GetBytes((string)value);
            case TypeId.Uuid: return ((Guid)value).ToByteArray(bigEndian: true);
            case TypeId.Fixed:
            {
                var bytes = (byte[])value;
                var length = ((FixedType)type).Length;
                if (bytes.Length != length) throw new ArgumentException($"A {type} value must have {length} bytes, got {bytes.Length}.");
                return bytes;
            }
            case TypeId.Binary: return (byte[])value;
            case TypeId.Decimal: return ToDecimalValue((DecimalType)type, value).ToBigEndianBytes();
            default: throw new NotSupportedException($"Type {type} has no single-value binary serialization.");
        }
    }

    public static object FromBytes(PrimitiveType type, ReadOnlySpan<byte> bytes)
    {
        switch (type.TypeId)
        {
            case TypeId.Boolean: return bytes.Length == 1 ? bytes[0] != 0 : throw Length(type, bytes, "1");
            case TypeId.Int:
            case TypeId.Date:
                return bytes.Length == 4 ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : throw Length(type, bytes, "4");
            case TypeId.Long:
            case TypeId.Time:
            case TypeId.Timestamp:
            case TypeId.TimestampTz:
                // A column promoted from int (or a timestamp from date) keeps its 4-byte bounds: read them as the original type.
                if (bytes.Length == 4)
                {
                    long v = BinaryPrimitives.ReadInt32LittleEndian(bytes);
                    return type.TypeId is TypeId.Timestamp or TypeId.TimestampTz ? v * 86_400_000_000L : v;
                }
                return bytes.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : throw Length(type, bytes, "8");
            case TypeId.Float: return bytes.Length == 4 ? BinaryPrimitives.ReadSingleLittleEndian(bytes) : throw Length(type, bytes, "4");
            case TypeId.Double:
                if (bytes.Length == 4) return (double)BinaryPrimitives.ReadSingleLittleEndian(bytes);
                return bytes.Length == 8 ? BinaryPrimitives.ReadDoubleLittleEndian(bytes) : throw Length(type, bytes, "8");
            case TypeId.String: return Encoding.UTF8.GetString(bytes);
            case TypeId.Uuid: return bytes.Length == 16 ? new Guid(bytes, bigEndian: true) : throw Length(type, bytes, "16");
            case TypeId.Fixed:
            case TypeId.Binary: return bytes.ToArray();
            case TypeId.Decimal:
                return DecimalValue.FromBigEndian(bytes, ((DecimalType)type).Scale);
            default: throw new NotSupportedException($"Type {type} has no single-value binary serialization.");
        }
    }

    /// <summary>
    /// A decimal value (DecimalValue, System.Decimal, SqlDecimal, an integer or a decimal string) at the type's scale;
    /// fails when it has more fractional digits than the scale or more digits than the precision.
    /// </summary>
    public static DecimalValue ToDecimalValue(DecimalType type, object value)
    {
        DecimalValue d = value switch
        {
            DecimalValue v => v,
            decimal m => m,
            System.Data.SqlTypes.SqlDecimal q => DecimalValue.Parse(q.ToString()),
            int or long or short or byte => new DecimalValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), 0),
            Int128 i => new DecimalValue(i, 0),
            BigInteger b => DecimalValue.Parse(b.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            string s => DecimalValue.Parse(s),
            _ => throw new ArgumentException($"A {type} value cannot be a {value.GetType().Name} ({value})."),
        };
        DecimalValue scaled;
        try
        {
            scaled = d.Rescale(type.Scale);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Value {d} cannot be held by {type}: {e.Message}", e);
        }
        if (scaled.Precision > type.Precision)
            throw new ArgumentException($"Value {d} has {scaled.Precision} digits at scale {type.Scale}, more than {type} holds.");
        return scaled;
    }

    private static FormatException Length(PrimitiveType type, ReadOnlySpan<byte> bytes, string expected) =>
        new($"A serialized {type} value must have {expected} bytes, got {bytes.Length}.");
}
