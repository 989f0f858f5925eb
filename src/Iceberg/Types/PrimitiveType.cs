namespace DataPlane.Iceberg.Types;

/// <summary>
/// A primitive type. Parameterless primitives are singletons (<see cref="Long"/>, <see cref="String"/>...);
/// <see cref="DecimalType"/> and <see cref="FixedType"/> carry their parameters.
/// <see cref="ToString"/> is the canonical JSON type string of the spec's Appendix C.
/// </summary>
public class PrimitiveType : IcebergType
{
    public static readonly PrimitiveType Boolean = new(TypeId.Boolean, "boolean");
    public static readonly PrimitiveType Int = new(TypeId.Int, "int");
    public static readonly PrimitiveType Long = new(TypeId.Long, "long");
    public static readonly PrimitiveType Float = new(TypeId.Float, "float");
    public static readonly PrimitiveType Double = new(TypeId.Double, "double");
    public static readonly PrimitiveType Date = new(TypeId.Date, "date");
    public static readonly PrimitiveType Time = new(TypeId.Time, "time");
    public static readonly PrimitiveType Timestamp = new(TypeId.Timestamp, "timestamp");
    public static readonly PrimitiveType TimestampTz = new(TypeId.TimestampTz, "timestamptz");
    public static readonly PrimitiveType String = new(TypeId.String, "string");
    public static readonly PrimitiveType Uuid = new(TypeId.Uuid, "uuid");
    public static readonly PrimitiveType Binary = new(TypeId.Binary, "binary");

    private readonly string _name;

    private protected PrimitiveType(TypeId typeId, string name)
    {
        TypeId = typeId;
        _name = name;
    }

    public override TypeId TypeId { get; }

    public static DecimalType Decimal(int precision, int scale) => new(precision, scale);
    public static FixedType Fixed(int length) => new(length);

    public override string ToString() => _name;
    public override bool Equals(IcebergType? other) => other is PrimitiveType p && p.TypeId == TypeId && p._name == _name;
    public override int GetHashCode() => _name.GetHashCode(StringComparison.Ordinal);

    /// <summary>Parses a type string such as <c>long</c>, <c>decimal(9, 2)</c> or <c>fixed[16]</c> (whitespace around parameters allowed).</summary>
    public static PrimitiveType Parse(string text)
    {
        var s = text.Trim();
        switch (s)
        {
            case "boolean": return Boolean;
            case "int": return Int;
            case "long": return Long;
            case "float": return Float;
            case "double": return Double;
            case "date": return Date;
            case "time": return Time;
            case "timestamp": return Timestamp;
            case "timestamptz": return TimestampTz;
            case "string": return String;
            case "uuid": return Uuid;
            case "binary": return Binary;
        }
        if (s.StartsWith("decimal(", StringComparison.Ordinal) && s.EndsWith(')'))
        {
            var parts = s["decimal(".Length..^1].Split(',');
            if (parts.Length == 2 && int.TryParse(parts[0].Trim(), out var p) && int.TryParse(parts[1].Trim(), out var sc))
                return new DecimalType(p, sc);
        }
        if (s.StartsWith("fixed[", StringComparison.Ordinal) && s.EndsWith(']') && int.TryParse(s["fixed[".Length..^1].Trim(), out var len))
            return new FixedType(len);
        throw new FormatException(
            $"Unknown Iceberg type '{text}'; valid: boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, fixed[L], binary.");
    }
}

/// <summary>decimal(P,S): fixed-point with precision P (1..38) and scale S.</summary>
public sealed class DecimalType : PrimitiveType
{
    public const int MaxPrecision = 38;

    internal DecimalType(int precision, int scale) : base(TypeId.Decimal, $"decimal({precision},{scale})")
    {
        if (precision is < 1 or > MaxPrecision)
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"Decimal precision must be 1..{MaxPrecision}.");
        if (scale < 0 || scale > precision)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Decimal scale must be 0..precision ({precision}).");
        Precision = precision;
        Scale = scale;
    }

    public int Precision { get; }
    public int Scale { get; }
}

/// <summary>fixed[L]: a byte array of exactly L bytes.</summary>
public sealed class FixedType : PrimitiveType
{
    internal FixedType(int length) : base(TypeId.Fixed, $"fixed[{length}]")
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "Fixed length must be at least 1.");
        Length = length;
    }

    public int Length { get; }
}
