using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// SQL types to Arrow types and back. The Arrow side is what the table format's Parquet writer takes for each
/// Iceberg type (int32, int64, float, double, decimal128, date32, time64[us], timestamp[us] with or without "UTC",
/// utf8, binary, fixed_size_binary(16) marked arrow.uuid, list, struct, map), so a query's output goes to a sink as is.
/// </summary>
internal static class ArrowTypes
{
    /// <summary>Arrow's canonical UUID extension, carried in field metadata.</summary>
    public const string ExtensionNameKey = "ARROW:extension:name";
    public const string UuidExtensionName = "arrow.uuid";

    public static readonly TimestampType TimestampArrow = new(TimeUnit.Microsecond, (string?)null);
    public static readonly TimestampType TimestampTzArrow = new(TimeUnit.Microsecond, "UTC");
    public static readonly Time64Type TimeArrow = new(TimeUnit.Microsecond);

    /// <summary>The SQL type of an Arrow field; null (with the reason) when the engine cannot read it.</summary>
    public static SqlType? FromArrow(Field field, out string? problem)
    {
        problem = null;
        if (field.HasMetadata && field.Metadata.TryGetValue(ExtensionNameKey, out var ext) && ext == UuidExtensionName)
            return SqlType.Uuid;
        return FromArrow(field.DataType, field.Name, out problem);
    }

    private static SqlType? FromArrow(IArrowType type, string name, out string? problem)
    {
        problem = null;
        switch (type)
        {
            case BooleanType: return SqlType.Boolean;
            case Int32Type: return SqlType.Integer;
            case Int64Type: return SqlType.BigInt;
            case FloatType: return SqlType.Real;
            case DoubleType: return SqlType.Double;
            case Decimal128Type d: return SqlType.Decimal(d.Precision, d.Scale);
            case Date32Type: return SqlType.Date;
            case Time64Type { Unit: TimeUnit.Microsecond }: return SqlType.Time;
            case TimestampType { Unit: TimeUnit.Microsecond } t: return string.IsNullOrEmpty(t.Timezone) ? SqlType.Timestamp : SqlType.TimestampTz;
            case StringType: return SqlType.Varchar;
            case BinaryType: return SqlType.Blob;
            // A UUID is marked (arrow.uuid, above); any other fixed-size binary is Iceberg's fixed[L].
            case FixedSizeBinaryType f: return SqlType.Fixed(f.ByteWidth);
            case IntervalType { Unit: IntervalUnit.MonthDayNanosecond }: return SqlType.Interval;
            case ListType l:
            {
                var element = FromArrow(l.ValueField, out problem);
                return element is null ? null : SqlType.List(element);
            }
            case StructType s:
            {
                var fields = new List<StructField>(s.Fields.Count);
                foreach (var f in s.Fields)
                {
                    var t = FromArrow(f, out problem);
                    if (t is null) return null;
                    fields.Add(new StructField(f.Name, t, f.IsNullable));
                }
                return SqlType.Struct(fields);
            }
            case MapType m:
            {
                var key = FromArrow(m.KeyField, out problem);
                var value = key is null ? null : FromArrow(m.ValueField, out problem);
                return value is null ? null : SqlType.Map(key!, value);
            }
        }
        problem = $"column '{name}' has Arrow type {type.Name}, which SQL does not read (the engine reads the Iceberg types: boolean, int, long, float, double, decimal, date, time, timestamp, timestamptz, string, binary, uuid, fixed, list, struct, map)";
        return null;
    }

    public static IArrowType ToArrow(SqlType type) => type.Kind switch
    {
        SqlTypeKind.Null => BooleanType.Default, // a column that is always NULL: stored as an all-null boolean
        SqlTypeKind.Boolean => BooleanType.Default,
        SqlTypeKind.Integer => Int32Type.Default,
        SqlTypeKind.BigInt => Int64Type.Default,
        SqlTypeKind.Real => FloatType.Default,
        SqlTypeKind.Double => DoubleType.Default,
        SqlTypeKind.Decimal => new Decimal128Type(type.Precision, type.Scale),
        SqlTypeKind.Date => Date32Type.Default,
        SqlTypeKind.Time => TimeArrow,
        SqlTypeKind.Timestamp => TimestampArrow,
        SqlTypeKind.TimestampTz => TimestampTzArrow,
        SqlTypeKind.Interval => IntervalType.MonthDayNanosecond,
        SqlTypeKind.Varchar => StringType.Default,
        SqlTypeKind.Blob => BinaryType.Default,
        SqlTypeKind.Uuid => new FixedSizeBinaryType(16),
        SqlTypeKind.Fixed => new FixedSizeBinaryType(type.Precision),
        SqlTypeKind.List => new ListType(Field("element", type.Element!, true)),
        SqlTypeKind.Struct => new StructType(type.Fields!.Select(f => Field(f.Name, f.Type, f.Nullable)).ToList()),
        SqlTypeKind.Map => new MapType(Field("key", type.Key!, false), Field("value", type.Value!, true)),
        _ => throw new NotSupportedException(type.ToString()),
    };

    public static Field Field(string name, SqlType type, bool nullable)
    {
        var metadata = type.Kind == SqlTypeKind.Uuid ? new Dictionary<string, string> { [ExtensionNameKey] = UuidExtensionName } : null;
        return new Field(name, ToArrow(type), nullable, metadata);
    }
}
