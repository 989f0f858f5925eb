using System.Text;

namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// A SQL type: a primitive (singletons), DECIMAL(p,s), or a nested LIST, STRUCT or MAP. Compared by value.
/// <see cref="ToString"/> spells it the way DuckDB does (INTEGER, VARCHAR, INTEGER[], STRUCT(a INTEGER)), so
/// messages read the same as the reference engine's.
/// </summary>
internal sealed class SqlType : IEquatable<SqlType>
{
    public static readonly SqlType Null = new(SqlTypeKind.Null);
    public static readonly SqlType Boolean = new(SqlTypeKind.Boolean);
    public static readonly SqlType Integer = new(SqlTypeKind.Integer);
    public static readonly SqlType BigInt = new(SqlTypeKind.BigInt);
    public static readonly SqlType Real = new(SqlTypeKind.Real);
    public static readonly SqlType Double = new(SqlTypeKind.Double);
    public static readonly SqlType Date = new(SqlTypeKind.Date);
    public static readonly SqlType Time = new(SqlTypeKind.Time);
    public static readonly SqlType Timestamp = new(SqlTypeKind.Timestamp);
    public static readonly SqlType TimestampTz = new(SqlTypeKind.TimestampTz);
    public static readonly SqlType Interval = new(SqlTypeKind.Interval);
    public static readonly SqlType Varchar = new(SqlTypeKind.Varchar);
    public static readonly SqlType Blob = new(SqlTypeKind.Blob);
    public static readonly SqlType Uuid = new(SqlTypeKind.Uuid);

    public const int MaxDecimalPrecision = 38;

    private SqlType(SqlTypeKind kind) => Kind = kind;

    public SqlTypeKind Kind { get; }
    public int Precision { get; private init; }
    public int Scale { get; private init; }
    /// <summary>The element type of a LIST.</summary>
    public SqlType? Element { get; private init; }
    /// <summary>The fields of a STRUCT, in order.</summary>
    public IReadOnlyList<StructField>? Fields { get; private init; }
    public SqlType? Key { get; private init; }
    public SqlType? Value { get; private init; }

    public static SqlType Decimal(int precision, int scale)
    {
        if (precision is < 1 or > MaxDecimalPrecision || scale < 0 || scale > precision)
            throw new ArgumentOutOfRangeException(nameof(precision), $"DECIMAL({precision},{scale}) is not a type: precision is 1 to {MaxDecimalPrecision}, scale 0 to the precision.");
        return new SqlType(SqlTypeKind.Decimal) { Precision = precision, Scale = scale };
    }

    public static SqlType List(SqlType element) => new(SqlTypeKind.List) { Element = element };
    public static SqlType Struct(IReadOnlyList<StructField> fields) => new(SqlTypeKind.Struct) { Fields = fields };
    public static SqlType Map(SqlType key, SqlType value) => new(SqlTypeKind.Map) { Key = key, Value = value };
    /// <summary>FIXED(L): Iceberg's fixed[L] from a stream or file, so a pipeline passes it through to its sink unchanged.</summary>
    public static SqlType Fixed(int length) => new(SqlTypeKind.Fixed) { Precision = length };

    public bool IsInteger => Kind is SqlTypeKind.Integer or SqlTypeKind.BigInt;
    public bool IsFloating => Kind is SqlTypeKind.Real or SqlTypeKind.Double;
    public bool IsNumeric => IsInteger || IsFloating || Kind == SqlTypeKind.Decimal;
    public bool IsTimestamp => Kind is SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz;
    public bool IsNested => Kind is SqlTypeKind.List or SqlTypeKind.Struct or SqlTypeKind.Map;

    public bool Equals(SqlType? other)
    {
        if (other is null || other.Kind != Kind) return false;
        return Kind switch
        {
            SqlTypeKind.Decimal => Precision == other.Precision && Scale == other.Scale,
            SqlTypeKind.Fixed => Precision == other.Precision,
            SqlTypeKind.List => Element!.Equals(other.Element),
            SqlTypeKind.Map => Key!.Equals(other.Key) && Value!.Equals(other.Value),
            SqlTypeKind.Struct => Fields!.Count == other.Fields!.Count && Fields.Zip(other.Fields).All(p => p.First.Name == p.Second.Name && p.First.Type.Equals(p.Second.Type)),
            _ => true,
        };
    }

    public override bool Equals(object? obj) => obj is SqlType t && Equals(t);
    public override int GetHashCode() => HashCode.Combine(Kind, Precision, Scale, Element, Fields?.Count ?? 0);
    public static bool operator ==(SqlType? a, SqlType? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(SqlType? a, SqlType? b) => !(a == b);

    public override string ToString() => Kind switch
    {
        SqlTypeKind.Null => "NULL",
        SqlTypeKind.Boolean => "BOOLEAN",
        SqlTypeKind.Integer => "INTEGER",
        SqlTypeKind.BigInt => "BIGINT",
        SqlTypeKind.Real => "FLOAT",
        SqlTypeKind.Double => "DOUBLE",
        SqlTypeKind.Decimal => $"DECIMAL({Precision},{Scale})",
        SqlTypeKind.Date => "DATE",
        SqlTypeKind.Time => "TIME",
        SqlTypeKind.Timestamp => "TIMESTAMP",
        SqlTypeKind.TimestampTz => "TIMESTAMP WITH TIME ZONE",
        SqlTypeKind.Interval => "INTERVAL",
        SqlTypeKind.Varchar => "VARCHAR",
        SqlTypeKind.Blob => "BLOB",
        SqlTypeKind.Uuid => "UUID",
        SqlTypeKind.Fixed => $"FIXED({Precision})",
        SqlTypeKind.List => Element + "[]",
        SqlTypeKind.Map => $"MAP({Key}, {Value})",
        SqlTypeKind.Struct => StructText(),
        _ => Kind.ToString(),
    };

    private string StructText()
    {
        var b = new StringBuilder("STRUCT(");
        for (int i = 0; i < Fields!.Count; i++)
        {
            if (i > 0) b.Append(", ");
            b.Append('"').Append(Fields[i].Name).Append("\" ").Append(Fields[i].Type);
        }
        return b.Append(')').ToString();
    }
}

internal sealed record StructField(string Name, SqlType Type, bool Nullable = true);
