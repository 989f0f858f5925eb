using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace DataPlane.Iceberg.Types;

/// <summary>
/// The in-memory value of decimal(P,S): an unscaled 128-bit integer and a scale, so the spec's full precision of 38
/// digits is held exactly (System.Decimal stops at 28 or 29). Equal values of different scales (1.5 and 1.50) are
/// equal and order the same.
/// </summary>
public readonly struct DecimalValue : IEquatable<DecimalValue>, IComparable<DecimalValue>, IComparable
{
    /// <summary>10^38: the first magnitude precision 38 cannot hold.</summary>
    private static readonly Int128 Limit = Int128.Parse("100000000000000000000000000000000000000", CultureInfo.InvariantCulture);

    public DecimalValue(Int128 unscaled, int scale)
    {
        if (scale is < 0 or > DecimalType.MaxPrecision)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"A decimal scale must be 0..{DecimalType.MaxPrecision}.");
        Unscaled = unscaled;
        Scale = scale;
    }

    public Int128 Unscaled { get; }
    public int Scale { get; }

    /// <summary>Digits of the unscaled value (1 for zero).</summary>
    public int Precision
    {
        get => BigInteger.Abs(Unscaled).ToString(CultureInfo.InvariantCulture).Length;
    }

    public static implicit operator DecimalValue(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        Int128 mantissa = ((Int128)(uint)bits[2] << 64) | ((Int128)(uint)bits[1] << 32) | (uint)bits[0];
        return new DecimalValue((bits[3] & int.MinValue) != 0 ? -mantissa : mantissa, (bits[3] >> 16) & 0xFF);
    }

    /// <summary>The value as System.Decimal; fails when it has more digits than System.Decimal holds.</summary>
    public decimal ToDecimal()
    {
        var magnitude = Unscaled < 0 ? (UInt128)(-Unscaled) : (UInt128)Unscaled;
        if (magnitude >> 96 != 0 || Scale > 28)
            throw new OverflowException($"Decimal {this} does not fit System.Decimal (28 digits); read it as DecimalValue.");
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), (int)(uint)(magnitude >> 64), Unscaled < 0, (byte)Scale);
    }

    /// <summary>The same value at <paramref name="scale"/>; fails when that would drop non-zero digits or exceed 38 digits.</summary>
    public DecimalValue Rescale(int scale)
    {
        if (scale == Scale) return this;
        if (scale > Scale)
        {
            var factor = BigInteger.Pow(10, scale - Scale);
            var widened = (BigInteger)Unscaled * factor;
            if (BigInteger.Abs(widened) >= (BigInteger)Limit)
                throw new ArgumentException($"Decimal {this} at scale {scale} has more than {DecimalType.MaxPrecision} digits.");
            return new DecimalValue((Int128)widened, scale);
        }
        var divisor = Pow10(Scale - scale);
        var quotient = Int128.DivRem(Unscaled, divisor);
        return quotient.Remainder == 0
            ? new DecimalValue(quotient.Quotient, scale)
            : throw new ArgumentException($"Value {this} has more than {scale} fractional digits.");
    }

    /// <summary>The spec's single-value serialization: the unscaled value as minimal big-endian two's complement.</summary>
    public byte[] ToBigEndianBytes()
    {
        Span<byte> buffer = stackalloc byte[16];
        var n = WriteBigEndian(buffer);
        return buffer[(16 - n)..].ToArray();
    }

    /// <summary>Writes the minimal big-endian two's complement bytes right-aligned in a 16-byte buffer; returns their count.</summary>
    public int WriteBigEndian(Span<byte> sixteen)
    {
        BinaryPrimitives.WriteInt128BigEndian(sixteen, Unscaled);
        return MinimalLength(Unscaled);
    }

    /// <summary>Bytes of the shortest two's complement form of <paramref name="unscaled"/> (one sign bit at least).</summary>
    public static int MinimalLength(Int128 unscaled)
    {
        var magnitudeBits = 128 - (int)Int128.LeadingZeroCount(unscaled < 0 ? ~unscaled : unscaled);
        return magnitudeBits / 8 + 1;
    }

    /// <summary>Reads big-endian two's complement bytes (1 to 16 of them) as the unscaled value.</summary>
    public static DecimalValue FromBigEndian(ReadOnlySpan<byte> bytes, int scale)
    {
        if (bytes.Length is 0 or > 16)
            throw new FormatException($"A serialized decimal holds 1 to 16 bytes, got {bytes.Length}.");
        Span<byte> buffer = stackalloc byte[16];
        buffer.Fill((bytes[0] & 0x80) != 0 ? (byte)0xFF : (byte)0);
        bytes.CopyTo(buffer[(16 - bytes.Length)..]);
        return new DecimalValue(BinaryPrimitives.ReadInt128BigEndian(buffer), scale);
    }

    /// <summary>Parses <c>-123.4500</c>; the scale is the number of digits after the point.</summary>
    public static DecimalValue Parse(string text)
    {
        var s = text.Trim();
        var negative = s.StartsWith('-');
        var body = negative || s.StartsWith('+') ? s[1..] : s;
        var point = body.IndexOf('.', StringComparison.Ordinal);
        var digits = point < 0 ? body : body[..point] + body[(point + 1)..];
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit) || digits.TrimStart('0').Length > DecimalType.MaxPrecision)
            throw new FormatException($"'{text}' is not a decimal of at most {DecimalType.MaxPrecision} digits.");
        var unscaled = Int128.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return new DecimalValue(negative ? -unscaled : unscaled, point < 0 ? 0 : body.Length - point - 1);
    }

    public override string ToString()
    {
        var digits = (Unscaled < 0 ? -(BigInteger)Unscaled : (BigInteger)Unscaled).ToString(CultureInfo.InvariantCulture);
        if (Scale > 0)
        {
            digits = digits.PadLeft(Scale + 1, '0');
            digits = digits[..^Scale] + "." + digits[^Scale..];
        }
        return Unscaled < 0 ? "-" + digits : digits;
    }

    public int CompareTo(DecimalValue other)
    {
        if (Scale == other.Scale) return Unscaled.CompareTo(other.Unscaled);
        var (a, b) = Scale < other.Scale
            ? ((BigInteger)Unscaled * BigInteger.Pow(10, other.Scale - Scale), (BigInteger)other.Unscaled)
            : ((BigInteger)Unscaled, (BigInteger)other.Unscaled * BigInteger.Pow(10, Scale - other.Scale));
        return a.CompareTo(b);
    }

    public int CompareTo(object? obj) => obj is DecimalValue d ? CompareTo(d)
        : throw new ArgumentException($"Cannot compare a decimal with {obj?.GetType().Name ?? "null"}.");

    public bool Equals(DecimalValue other) => CompareTo(other) == 0;
    public override bool Equals(object? obj) => obj is DecimalValue d && Equals(d);

    public override int GetHashCode()
    {
        // Equal values of different scales must hash alike: hash the value without trailing zeros.
        var (unscaled, scale) = (Unscaled, Scale);
        while (scale > 0 && unscaled % 10 == 0)
        {
            unscaled /= 10;
            scale--;
        }
        return HashCode.Combine(unscaled, scale);
    }

    public static bool operator ==(DecimalValue a, DecimalValue b) => a.Equals(b);
    public static bool operator !=(DecimalValue a, DecimalValue b) => !a.Equals(b);
    public static bool operator <(DecimalValue a, DecimalValue b) => a.CompareTo(b) < 0;
    public static bool operator >(DecimalValue a, DecimalValue b) => a.CompareTo(b) > 0;
    public static bool operator <=(DecimalValue a, DecimalValue b) => a.CompareTo(b) <= 0;
    public static bool operator >=(DecimalValue a, DecimalValue b) => a.CompareTo(b) >= 0;

    private static Int128 Pow10(int exponent)
    {
        Int128 result = 1;
        for (var i = 0; i < exponent; i++) result *= 10;
        return result;
    }
}
