using System.Globalization;
using System.Text;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>
/// A partition (or sort) transform: identity, bucket[N], truncate[W], year, month, day, hour, void.
/// Values are the in-memory forms of <see cref="Conversions"/>; every transform maps null to null.
/// </summary>
public sealed class Transform : IEquatable<Transform>
{
    public static readonly Transform Identity = new(TransformKind.Identity, 0, "identity");
    public static readonly Transform Year = new(TransformKind.Year, 0, "year");
    public static readonly Transform Month = new(TransformKind.Month, 0, "month");
    public static readonly Transform Day = new(TransformKind.Day, 0, "day");
    public static readonly Transform Hour = new(TransformKind.Hour, 0, "hour");
    public static readonly Transform Void = new(TransformKind.Void, 0, "void");

    private const long MicrosPerDay = 86_400_000_000L;
    private const long MicrosPerHour = 3_600_000_000L;
    private readonly string _text;

    private Transform(TransformKind kind, int parameter, string text)
    {
        Kind = kind;
        Parameter = parameter;
        _text = text;
    }

    public TransformKind Kind { get; }
    /// <summary>N of bucket[N], W of truncate[W]; 0 otherwise.</summary>
    public int Parameter { get; }

    public static Transform Bucket(int numBuckets) => numBuckets > 0
        ? new(TransformKind.Bucket, numBuckets, $"bucket[{numBuckets}]")
        : throw new ArgumentOutOfRangeException(nameof(numBuckets), numBuckets, "The number of buckets must be positive.");

    public static Transform Truncate(int width) => width > 0
        ? new(TransformKind.Truncate, width, $"truncate[{width}]")
        : throw new ArgumentOutOfRangeException(nameof(width), width, "The truncate width must be positive.");

    /// <summary>Parses the JSON form (<c>bucket[16]</c>, <c>day</c>...); unknown names become <see cref="TransformKind.Unknown"/>.</summary>
    public static Transform Parse(string text)
    {
        var s = text.Trim();
        switch (s)
        {
            case "identity": return Identity;
            case "year": return Year;
            case "month": return Month;
            case "day": return Day;
            case "hour": return Hour;
            case "void": return Void;
        }
        if (TryParameter(s, "bucket", out var n)) return Bucket(n);
        if (TryParameter(s, "truncate", out var w)) return Truncate(w);
        return new Transform(TransformKind.Unknown, 0, s);
    }

    private static bool TryParameter(string s, string name, out int value)
    {
        value = 0;
        return s.StartsWith(name + "[", StringComparison.Ordinal) && s.EndsWith(']')
            && int.TryParse(s.AsSpan(name.Length + 1, s.Length - name.Length - 2), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    public bool CanTransform(IcebergType source) => source is PrimitiveType p && Kind switch
    {
        TransformKind.Identity or TransformKind.Void => true,
        TransformKind.Bucket => p.TypeId is TypeId.Int or TypeId.Long or TypeId.Decimal or TypeId.Date or TypeId.Time or TypeId.Timestamp
            or TypeId.TimestampTz or TypeId.String or TypeId.Uuid or TypeId.Fixed or TypeId.Binary,
        TransformKind.Truncate => p.TypeId is TypeId.Int or TypeId.Long or TypeId.Decimal or TypeId.String or TypeId.Binary,
        TransformKind.Year or TransformKind.Month or TransformKind.Day => p.TypeId is TypeId.Date or TypeId.Timestamp or TypeId.TimestampTz,
        TransformKind.Hour => p.TypeId is TypeId.Timestamp or TypeId.TimestampTz,
        _ => false,
    };

    /// <summary>The type of the transform's results for a source of type <paramref name="source"/>.</summary>
    public PrimitiveType ResultType(PrimitiveType source) => Kind switch
    {
        TransformKind.Identity or TransformKind.Truncate or TransformKind.Void => source,
        TransformKind.Day => PrimitiveType.Date,
        _ => PrimitiveType.Int,
    };

    /// <summary>True when a &lt;= b implies f(a) &lt;= f(b), so range predicates project onto partition values.</summary>
    public bool PreservesOrder => Kind is TransformKind.Identity or TransformKind.Truncate or TransformKind.Year
        or TransformKind.Month or TransformKind.Day or TransformKind.Hour;

    public object? Apply(PrimitiveType source, object? value)
    {
        if (value is null) return null;
        switch (Kind)
        {
            case TransformKind.Identity: return source is DecimalType d ? Conversions.ToDecimalValue(d, value) : value;
            case TransformKind.Void: return null;
            case TransformKind.Bucket: return (Hash(source, value) & int.MaxValue) % Parameter;
            case TransformKind.Truncate: return TruncateValue(source, value);
            case TransformKind.Year: return YearsFromEpoch(ToDays(source, value));
            case TransformKind.Month: return MonthsFromEpoch(ToDays(source, value));
            case TransformKind.Day: return ToDays(source, value);
            case TransformKind.Hour: return (int)FloorDiv(Convert.ToInt64(value, CultureInfo.InvariantCulture), MicrosPerHour);
            default: throw new NotSupportedException($"Cannot apply unknown transform '{_text}'.");
        }
    }

    /// <summary>The bucket hash of a value (spec Appendix B).</summary>
    public static int Hash(PrimitiveType type, object value) => type.TypeId switch
    {
        TypeId.Int or TypeId.Long or TypeId.Date or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz =>
            Murmur3.HashLong(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        TypeId.Decimal => Murmur3.HashDecimal(Conversions.ToDecimalValue((DecimalType)type, value).Unscaled),
        TypeId.String => Murmur3.HashBytes(Encoding.UTF8.GetBytes((string)value)),
        TypeId.Uuid => Murmur3.HashBytes(((Guid)value).ToByteArray(bigEndian: true)),
        TypeId.Fixed or TypeId.Binary => Murmur3.HashBytes((byte[])value),
        _ => throw new ArgumentException($"Cannot bucket values of type {type}."),
    };

    /// <summary>The value as it appears in a partition path (<c>2024-01-01</c>, <c>2024-01</c>, <c>2024-01-01-10</c>, <c>null</c>).</summary>
    public string ToHumanString(PrimitiveType resultType, object? value)
    {
        if (value is null) return "null";
        return Kind switch
        {
            TransformKind.Year => (1970 + ToLong(value)).ToString(CultureInfo.InvariantCulture),
            TransformKind.Month => $"{FloorDiv(ToLong(value), 12) + 1970:D4}-{(ToLong(value) % 12 + 12) % 12 + 1:D2}",
            TransformKind.Hour => DateTime.UnixEpoch.AddHours(ToLong(value)).ToString("yyyy-MM-dd-HH", CultureInfo.InvariantCulture),
            _ => HumanValue(resultType, value),
        };
    }

    private static long ToLong(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    internal static string HumanValue(PrimitiveType type, object value) => type.TypeId switch
    {
        TypeId.Date => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + Convert.ToInt32(value, CultureInfo.InvariantCulture))
            .ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TypeId.Time => TimeOnly.FromTimeSpan(TimeSpan.FromMicroseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture))).ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        TypeId.Timestamp => DateTime.UnixEpoch.AddTicks(Convert.ToInt64(value, CultureInfo.InvariantCulture) * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        TypeId.TimestampTz => DateTime.UnixEpoch.AddTicks(Convert.ToInt64(value, CultureInfo.InvariantCulture) * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "Z",
        TypeId.Fixed or TypeId.Binary => Convert.ToBase64String((byte[])value),
        TypeId.Boolean => (bool)value ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private object TruncateValue(PrimitiveType source, object value)
    {
        var w = Parameter;
        switch (source.TypeId)
        {
            case TypeId.Int:
            {
                var v = (int)value;
                return v - (((v % w) + w) % w);
            }
            case TypeId.Long:
            {
                var v = (long)value;
                return v - (((v % w) + w) % w);
            }
            case TypeId.Decimal:
            {
                var type = (DecimalType)source;
                var unscaled = Conversions.ToDecimalValue(type, value).Unscaled;
                return new DecimalValue(TruncateUnscaled(unscaled, w), type.Scale);
            }
            case TypeId.String:
            {
                var s = (string)value;
                // W counts code points, not UTF-16 chars.
                var chars = 0;
                for (var points = 0; chars < s.Length && points < w; points++)
                    chars += char.IsHighSurrogate(s[chars]) && chars + 1 < s.Length ? 2 : 1;
                return chars >= s.Length ? s : s[..chars];
            }
            case TypeId.Binary:
            {
                var b = (byte[])value;
                return b.Length <= w ? b : b[..w];
            }
            default: throw new ArgumentException($"Cannot truncate values of type {source}.");
        }
    }

    /// <summary>truncate[W] of a decimal works on the unscaled value: v - (((v % W) + W) % W).</summary>
    internal static Int128 TruncateUnscaled(Int128 unscaled, int width) => unscaled - (((unscaled % width) + width) % width);

    private static int ToDays(PrimitiveType source, object value) => source.TypeId == TypeId.Date
        ? Convert.ToInt32(value, CultureInfo.InvariantCulture)
        : (int)FloorDiv(Convert.ToInt64(value, CultureInfo.InvariantCulture), MicrosPerDay);

    private static int YearsFromEpoch(int days) => DateOnly.FromDayNumber(EpochDayNumber + days).Year - 1970;

    private static int MonthsFromEpoch(int days)
    {
        var d = DateOnly.FromDayNumber(EpochDayNumber + days);
        return (d.Year - 1970) * 12 + d.Month - 1;
    }

    private static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    public override string ToString() => _text;
    public bool Equals(Transform? other) => other is not null && other._text == _text;
    public override bool Equals(object? obj) => Equals(obj as Transform);
    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);
}
