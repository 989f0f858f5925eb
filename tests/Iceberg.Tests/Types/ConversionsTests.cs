using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Types;

public class ConversionsTests
{
    public static TheoryData<string, object, string> Vectors => new()
    {
        { "boolean", true, "01" },
        { "boolean", false, "00" },
        { "int", 1, "01000000" },
        { "int", -2, "FEFFFFFF" },
        { "long", 34L, "2200000000000000" },
        { "float", 1.0f, "0000803F" },
        { "double", 1.0d, "000000000000F03F" },
        { "date", 17486, "4E440000" },
        { "time", 81068123456L, "406509E012000000" },
        { "timestamp", 1510871468123456L, "40A5282D215E0500" },
        { "timestamptz", 1510871468123456L, "40A5282D215E0500" },
        { "string", "iceberg", "69636562657267" },
        { "uuid", Guid.Parse("f79c3e09-677c-4bbd-a479-3f349cb785e7"), "F79C3E09677C4BBDA4793F349CB785E7" },
        { "fixed[4]", new byte[] { 0, 1, 2, 255 }, "000102FF" },
        { "binary", new byte[] { 0, 1, 2, 255 }, "000102FF" },
        { "decimal(9,2)", DecimalValue.Parse("14.20"), "058C" },
        { "decimal(9,2)", DecimalValue.Parse("-0.01"), "FF" },
        { "decimal(9,2)", DecimalValue.Parse("1.28"), "0080" },
        { "decimal(38,0)", DecimalValue.Parse("0"), "00" },
        // 38 digits, beyond System.Decimal: the unscaled value is 10^38 - 1 (big-endian two's complement, 16 bytes).
        { "decimal(38,10)", DecimalValue.Parse("9999999999999999999999999999.9999999999"), "4B3B4CA85A86C47A098A223FFFFFFFFF" },
        { "decimal(38,10)", DecimalValue.Parse("-9999999999999999999999999999.9999999999"), "B4C4B357A5793B85F675DDC000000001" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Every_primitive_serializes_per_appendix_D_and_reads_back(string type, object value, string hex)
    {
        var t = PrimitiveType.Parse(type);
        var bytes = Conversions.ToBytes(t, value);
        Assert.Equal(hex, Convert.ToHexString(bytes));
        var back = Conversions.FromBytes(t, bytes);
        Assert.Equal(value, back);
    }

    [Fact]
    public void Decimal_with_too_many_fraction_digits_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Conversions.ToBytes(PrimitiveType.Decimal(9, 2), 1.234m));
        Assert.Contains("1.234", e.Message);
    }

    [Fact]
    public void System_decimal_input_is_rescaled_to_the_type_and_reads_back_at_its_scale()
    {
        var t = PrimitiveType.Decimal(9, 2);
        var back = (DecimalValue)Conversions.FromBytes(t, Conversions.ToBytes(t, 14.2m));
        Assert.Equal("14.20", back.ToString());
        Assert.Equal(14.20m, back.ToDecimal());
    }

    [Fact]
    public void Decimal_with_more_digits_than_the_precision_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Conversions.ToBytes(PrimitiveType.Decimal(9, 2), DecimalValue.Parse("12345678.9")));
        Assert.Contains("12345678.9", e.Message);
        Assert.Contains("decimal(9,2)", e.Message);
    }

    [Fact]
    public void Decimals_of_38_digits_order_by_value()
    {
        var t = PrimitiveType.Decimal(38, 10);
        var big = DecimalValue.Parse("1234567890123456789012345678.0123456789");
        var bigger = DecimalValue.Parse("1234567890123456789012345678.0123456790");
        Assert.True(ValueComparer.Compare(t, big, bigger) < 0);
        Assert.True(ValueComparer.Compare(t, DecimalValue.Parse("-" + bigger), big) < 0);
        Assert.Equal(0, ValueComparer.Compare(t, DecimalValue.Parse("1.5"), DecimalValue.Parse("1.5000")));
        Assert.Throws<OverflowException>(() => big.ToDecimal());
    }

    [Fact]
    public void Bounds_written_before_a_promotion_read_as_the_wider_type()
    {
        Assert.Equal(7L, Conversions.FromBytes(PrimitiveType.Long, Conversions.ToBytes(PrimitiveType.Int, 7)));
        Assert.Equal(1.5d, Conversions.FromBytes(PrimitiveType.Double, Conversions.ToBytes(PrimitiveType.Float, 1.5f)));
    }

    [Fact]
    public void Strings_order_by_code_point()
    {
        Assert.True(ValueComparer.Compare(PrimitiveType.String, "\uFFFF", "\U0001F600") < 0);
        Assert.True(ValueComparer.Compare(PrimitiveType.String, "ab", "abc") < 0);
        Assert.True(ValueComparer.Compare(PrimitiveType.Binary, new byte[] { 0x7F }, new byte[] { 0x80 }) < 0);
    }
}
