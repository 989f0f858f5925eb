using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using Xunit;

namespace DataPlane.Iceberg.Tests.Partitioning;

public class TransformTests
{
    private static long Micros(string iso) => (DateTime.Parse(iso, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal) - DateTime.UnixEpoch).Ticks / 10;
    private static int Days(string iso) => DateOnly.Parse(iso).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    [Fact]
    public void Hashes_match_the_spec_appendix_B_test_vectors()
    {
        Assert.Equal(2017239379, Transform.Hash(PrimitiveType.Int, 34));
        Assert.Equal(2017239379, Transform.Hash(PrimitiveType.Long, 34L));
        Assert.Equal(-500754589, Transform.Hash(PrimitiveType.Decimal(9, 2), 14.20m));
        Assert.Equal(-653330422, Transform.Hash(PrimitiveType.Date, Days("2017-11-16")));
        Assert.Equal(-662762989, Transform.Hash(PrimitiveType.Time, 81068000000L));
        Assert.Equal(-2047944441, Transform.Hash(PrimitiveType.Timestamp, Micros("2017-11-16T22:31:08")));
        Assert.Equal(-1207196810, Transform.Hash(PrimitiveType.Timestamp, Micros("2017-11-16T22:31:08") + 1));
        Assert.Equal(-2047944441, Transform.Hash(PrimitiveType.TimestampTz, Micros("2017-11-16T14:31:08-08:00")));
        Assert.Equal(1210000089, Transform.Hash(PrimitiveType.String, "iceberg"));
        Assert.Equal(1488055340, Transform.Hash(PrimitiveType.Uuid, Guid.Parse("f79c3e09-677c-4bbd-a479-3f349cb785e7")));
        Assert.Equal(-188683207, Transform.Hash(PrimitiveType.Fixed(4), new byte[] { 0, 1, 2, 3 }));
        Assert.Equal(-188683207, Transform.Hash(PrimitiveType.Binary, new byte[] { 0, 1, 2, 3 }));
    }

    [Fact]
    public void Bucket_discards_the_sign_bit_then_takes_the_modulus()
    {
        // -500754589 & int.MaxValue = 1646729059
        Assert.Equal(1646729059 % 16, Transform.Bucket(16).Apply(PrimitiveType.Decimal(9, 2), 14.20m));
        Assert.Equal(2017239379 % 100, Transform.Bucket(100).Apply(PrimitiveType.Long, 34L));
        Assert.Null(Transform.Bucket(16).Apply(PrimitiveType.Long, null));
    }

    [Fact]
    public void Decimals_of_38_digits_bucket_by_their_unscaled_minimal_bytes()
    {
        // Expected hashes from an independent Murmur3 (Python) of the unscaled value's minimal two's complement bytes;
        // the same implementation gives the spec's -500754589 for 14.20.
        var t = PrimitiveType.Decimal(38, 10);
        Assert.Equal(-1079967834, Transform.Hash(t, DecimalValue.Parse("9999999999999999999999999999.9999999999")));
        Assert.Equal(-1954217638, Transform.Hash(t, DecimalValue.Parse("-9999999999999999999999999999.9999999999")));
        Assert.Equal(1808226235, Transform.Hash(t, DecimalValue.Parse("1234567890123456789012345678.9012345678")));
        Assert.Equal(11, Transform.Bucket(16).Apply(t, DecimalValue.Parse("1234567890123456789012345678.9012345678")));
    }

    [Fact]
    public void Truncate_of_a_38_digit_decimal_works_on_the_unscaled_value()
    {
        var t = PrimitiveType.Decimal(38, 10);
        Assert.Equal(DecimalValue.Parse("-1234567890123456789012345678.9012346000"),
            Transform.Truncate(1000).Apply(t, DecimalValue.Parse("-1234567890123456789012345678.9012345678")));
    }

    [Fact]
    public void Truncate_follows_the_spec_examples()
    {
        var t10 = Transform.Truncate(10);
        Assert.Equal(0, t10.Apply(PrimitiveType.Int, 1));
        Assert.Equal(-10, t10.Apply(PrimitiveType.Int, -1));
        Assert.Equal(-10L, t10.Apply(PrimitiveType.Long, -1L));
        Assert.Equal(DecimalValue.Parse("10.50"), Transform.Truncate(50).Apply(PrimitiveType.Decimal(9, 2), 10.65m));
        Assert.Equal("ice", Transform.Truncate(3).Apply(PrimitiveType.String, "iceberg"));
        Assert.Equal("a\U0001F600b", Transform.Truncate(3).Apply(PrimitiveType.String, "a\U0001F600bc"));
        Assert.Equal(new byte[] { 1, 2, 3 }, Transform.Truncate(3).Apply(PrimitiveType.Binary, new byte[] { 1, 2, 3, 4, 5 }));
    }

    [Fact]
    public void Time_transforms_count_from_the_epoch_and_floor_before_it()
    {
        var ts = Micros("2024-03-15T10:20:30");
        Assert.Equal(54, Transform.Year.Apply(PrimitiveType.Timestamp, ts));
        Assert.Equal(54 * 12 + 2, Transform.Month.Apply(PrimitiveType.TimestampTz, ts));
        Assert.Equal(Days("2024-03-15"), Transform.Day.Apply(PrimitiveType.Timestamp, ts));
        Assert.Equal((int)(ts / 3_600_000_000L), Transform.Hour.Apply(PrimitiveType.Timestamp, ts));
        Assert.Equal(54, Transform.Year.Apply(PrimitiveType.Date, Days("2024-12-31")));
        Assert.Equal(-1, Transform.Day.Apply(PrimitiveType.Timestamp, -1L));
        Assert.Equal(-1, Transform.Hour.Apply(PrimitiveType.Timestamp, -1L));
        Assert.Equal(-1, Transform.Month.Apply(PrimitiveType.Date, -1));
        Assert.Equal(-1, Transform.Year.Apply(PrimitiveType.Date, -1));
    }

    [Fact]
    public void Human_strings_are_those_of_partition_paths()
    {
        var ts = Micros("2024-03-15T10:20:30");
        Assert.Equal("2024", Transform.Year.ToHumanString(PrimitiveType.Int, Transform.Year.Apply(PrimitiveType.Timestamp, ts)));
        Assert.Equal("2024-03", Transform.Month.ToHumanString(PrimitiveType.Int, Transform.Month.Apply(PrimitiveType.Timestamp, ts)));
        Assert.Equal("2024-03-15", Transform.Day.ToHumanString(PrimitiveType.Date, Transform.Day.Apply(PrimitiveType.Timestamp, ts)));
        Assert.Equal("2024-03-15-10", Transform.Hour.ToHumanString(PrimitiveType.Int, Transform.Hour.Apply(PrimitiveType.Timestamp, ts)));
        Assert.Equal("1969-12", Transform.Month.ToHumanString(PrimitiveType.Int, -1));
        Assert.Equal("null", Transform.Day.ToHumanString(PrimitiveType.Date, null));
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("bucket[16]")]
    [InlineData("truncate[20]")]
    [InlineData("year")]
    [InlineData("month")]
    [InlineData("day")]
    [InlineData("hour")]
    [InlineData("void")]
    public void Every_transform_round_trips_through_its_name(string name)
    {
        var t = Transform.Parse(name);
        Assert.NotEqual(TransformKind.Unknown, t.Kind);
        Assert.Equal(name, t.ToString());
    }

    [Fact]
    public void Unknown_transforms_are_kept_but_cannot_be_applied()
    {
        var t = Transform.Parse("zorder[3]");
        Assert.Equal(TransformKind.Unknown, t.Kind);
        Assert.Equal("zorder[3]", t.ToString());
        Assert.Throws<NotSupportedException>(() => t.Apply(PrimitiveType.Int, 1));
    }

    [Fact]
    public void Transforms_state_which_sources_they_accept_and_their_result_type()
    {
        Assert.False(Transform.Hour.CanTransform(PrimitiveType.Date));
        Assert.False(Transform.Bucket(4).CanTransform(PrimitiveType.Double));
        Assert.True(Transform.Truncate(4).CanTransform(PrimitiveType.String));
        Assert.Equal(PrimitiveType.Date, Transform.Day.ResultType(PrimitiveType.Timestamp));
        Assert.Equal(PrimitiveType.Int, Transform.Bucket(4).ResultType(PrimitiveType.String));
        Assert.Equal(PrimitiveType.String, Transform.Truncate(4).ResultType(PrimitiveType.String));
    }
}
