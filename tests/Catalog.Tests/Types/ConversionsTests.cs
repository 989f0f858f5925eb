using Xunit;
using DataPlane.Catalog.Types;

namespace DataPlane.Catalog.Tests.Types;

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
        { "decimal(9,2)", 14.20m, "058C" },
        { "decimal(9,2)", -0.01m, "FF" },
        { "decimal(9,2)", 1.28m, "0080" },
        { "decimal(38,0)", 0m, "00" },
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
