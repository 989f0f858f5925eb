using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Tests.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Iceberg.Tests.Partitioning;

/// <summary>Transforms applied a column at a time give exactly what the per-value transforms give.</summary>
public class ColumnTransformTests
{
    private static readonly Random Seeded = new(42);

    private static long?[] Longs(long min, long max, int n = 2000) =>
        Enumerable.Range(0, n).Select(i => i % 17 == 0 ? null : (long?)Seeded.NextInt64(min, max)).ToArray();

    public static TheoryData<string, string> Cases => new()
    {
        { "int", "identity" }, { "int", "bucket[16]" }, { "int", "truncate[10]" }, { "int", "void" },
        { "long", "identity" }, { "long", "bucket[13]" }, { "long", "truncate[7]" },
        { "date", "identity" }, { "date", "year" }, { "date", "month" }, { "date", "day" }, { "date", "bucket[8]" },
        { "time", "identity" }, { "time", "bucket[8]" },
        { "timestamp", "year" }, { "timestamp", "month" }, { "timestamp", "day" }, { "timestamp", "hour" }, { "timestamp", "bucket[16]" },
        { "timestamptz", "identity" }, { "timestamptz", "hour" },
        { "string", "bucket[16]" }, { "binary", "bucket[5]" }, { "fixed[3]", "bucket[7]" }, { "uuid", "bucket[16]" }, { "decimal(38,10)", "bucket[16]" },
    };

    private static IArrowArray Column(PrimitiveType type)
    {
        var arrowType = ArrowSchemaMapping.ToArrowType(type);
        switch (type.TypeId)
        {
            case TypeId.Int: return ArrowColumns.Ints(Longs(int.MinValue, int.MaxValue).Select(v => (int?)v).ToArray());
            case TypeId.Long: return ArrowColumns.Longs(Longs(long.MinValue / 2, long.MaxValue / 2));
            case TypeId.Date:
            {
                var b = new Date32Array.Builder();
                foreach (var v in Longs(-700_000, 700_000)) if (v is { } x) b.Append(DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)x)); else b.AppendNull();
                return b.Build();
            }
            case TypeId.Time:
                return new Time64Array(new ArrayData(arrowType, 2000, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Longs(0, 86_400_000_000L).Select(v => v ?? 5).ToArray().AsSpan()).ToArray())]));
            case TypeId.Timestamp or TypeId.TimestampTz:
                return ArrowColumns.Timestamps((TimestampType)arrowType, Longs(-5_000_000_000_000_000L, 5_000_000_000_000_000L));
            case TypeId.String: return ArrowColumns.Strings(Longs(-1000, 1000).Select(v => v is null ? null : $"s{v}\U0001F600").ToArray());
            case TypeId.Binary:
            {
                var b = new BinaryArray.Builder();
                foreach (var v in Longs(0, 1 << 20)) if (v is { } x) b.Append(BitConverter.GetBytes(x).AsSpan(0, (int)(x % 8))); else b.AppendNull();
                return b.Build();
            }
            case TypeId.Fixed: return ArrowColumns.FixedBinary(3, Longs(0, 1 << 24).Select(v => v is null ? null : BitConverter.GetBytes(v.Value)[..3]).ToArray());
            case TypeId.Uuid: return ArrowColumns.FixedBinary(16, Longs(0, 100).Select(v => v is null ? null : Guid.NewGuid().ToByteArray(bigEndian: true)).ToArray());
            default:
                return ArrowColumns.Decimals((Decimal128Type)arrowType, Longs(long.MinValue, long.MaxValue)
                    .Select(v => v is null ? null : $"{v.Value % 100000000000000000}{Math.Abs(v.Value % 100000000000)}.{Math.Abs(v.Value % 9999999999):D10}").ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Column_results_equal_the_per_value_transform(string typeText, string transformText)
    {
        var type = PrimitiveType.Parse(typeText);
        var transform = Transform.Parse(transformText);
        var column = Column(type);
        Assert.True(ColumnTransform.Supports(transform, column));
        var keys = new long[column.Length];
        var nulls = new bool[column.Length];
        ColumnTransform.Apply(transform, type, column, keys, nulls);
        for (int i = 0; i < column.Length; i++)
        {
            var expected = transform.Apply(type, PartitionSourceValues.At(column, type, i));
            Assert.Equal(expected, nulls[i] ? null : ColumnTransform.Value(transform, type, keys[i]));
        }
    }

    [Fact]
    public void Column_buckets_hash_the_spec_appendix_B_vectors()
    {
        // bucket[int.MaxValue] keeps the hash's low 31 bits, so the key shows the hash.
        var all = Transform.Bucket(int.MaxValue);
        long Key(PrimitiveType type, IArrowArray column)
        {
            var keys = new long[1];
            ColumnTransform.Apply(all, type, column, keys, new bool[1]);
            return keys[0];
        }
        Assert.Equal(2017239379 & int.MaxValue, Key(PrimitiveType.Int, ArrowColumns.Ints(34)));
        Assert.Equal(2017239379 & int.MaxValue, Key(PrimitiveType.Long, ArrowColumns.Longs(34)));
        Assert.Equal(-500754589 & int.MaxValue, Key(PrimitiveType.Decimal(9, 2), ArrowColumns.Decimals(new Decimal128Type(9, 2), "14.20")));
        Assert.Equal(-2047944441 & int.MaxValue, Key(PrimitiveType.Timestamp,
            ArrowColumns.Timestamps(new TimestampType(TimeUnit.Microsecond, (string?)null), (new DateTime(2017, 11, 16, 22, 31, 8, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10)));
        Assert.Equal(1210000089 & int.MaxValue, Key(PrimitiveType.String, ArrowColumns.Strings("iceberg")));
        Assert.Equal(1488055340 & int.MaxValue, Key(PrimitiveType.Uuid, ArrowColumns.FixedBinary(16, [Guid.Parse("f79c3e09-677c-4bbd-a479-3f349cb785e7").ToByteArray(bigEndian: true)])));
        Assert.Equal(-188683207 & int.MaxValue, Key(PrimitiveType.Fixed(4), ArrowColumns.FixedBinary(4, [new byte[] { 0, 1, 2, 3 }])));
    }
}
