using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.Types;
using ArrowField = Apache.Arrow.Field;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Iceberg schema &lt;-&gt; Arrow schema. Field ids travel in Arrow field metadata under <c>PARQUET:field_id</c>,
/// the key Arrow's Parquet writer turns into Parquet field ids and its reader turns back into metadata.
/// The Arrow types are the ones Arrow's writer maps to the Parquet types of the spec's Appendix A.
/// </summary>
public static class ArrowSchemaMapping
{
    public const string FieldIdKey = "PARQUET:field_id";

    /// <summary>Arrow's canonical UUID extension: written as FIXED_LEN_BYTE_ARRAY(16) with the UUID logical type.</summary>
    internal const string ExtensionNameKey = "ARROW:extension:name";
    internal const string UuidExtensionName = "arrow.uuid";

    public static ArrowSchema ToArrow(IcebergSchema schema) =>
        new(schema.Columns.Select(ToArrow), metadata: null);

    public static ArrowField ToArrow(NestedField field) =>
        Field(field.Name, field.Type, !field.Required, field.Id);

    public static IArrowType ToArrowType(IcebergType type) => type switch
    {
        PrimitiveType p => Primitive(p),
        Types.StructType s => new Apache.Arrow.Types.StructType(s.Fields.Select(ToArrow).ToList()),
        Types.ListType l => new Apache.Arrow.Types.ListType(Field("element", l.ElementType, !l.ElementRequired, l.ElementId)),
        Types.MapType m => new Apache.Arrow.Types.MapType(
            Field("key", m.KeyType, nullable: false, m.KeyId),
            Field("value", m.ValueType, !m.ValueRequired, m.ValueId)),
        _ => throw new NotSupportedException($"Iceberg type {type} has no Arrow mapping."),
    };

    /// <summary>The Iceberg field id carried by an Arrow field, or null when it carries none.</summary>
    public static int? FieldId(ArrowField field) =>
        field.HasMetadata && field.Metadata.TryGetValue(FieldIdKey, out var text)
            && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>
    /// An Iceberg schema for an Arrow schema: ids come from <c>PARQUET:field_id</c> where present, otherwise they are
    /// assigned in depth-first order after the highest id present (how a new table gets its ids).
    /// </summary>
    public static IcebergSchema ToIceberg(ArrowSchema schema, int schemaId = 0)
    {
        int next = MaxId(schema.FieldsList) + 1;
        var columns = schema.FieldsList.Select(f => ToIceberg(f, ref next)).ToList();
        return new IcebergSchema(schemaId, columns);
    }

    private static NestedField ToIceberg(ArrowField field, ref int next)
    {
        int id = FieldId(field) ?? next++;
        return new NestedField(id, field.Name, !field.IsNullable, ToIcebergType(field, ref next));
    }

    private static IcebergType ToIcebergType(ArrowField field, ref int next)
    {
        var type = field.DataType;
        if (field.HasMetadata && field.Metadata.TryGetValue(ExtensionNameKey, out var ext) && ext == UuidExtensionName)
            return PrimitiveType.Uuid;
        switch (type)
        {
            case BooleanType: return PrimitiveType.Boolean;
            case Int8Type or Int16Type or Int32Type or UInt8Type or UInt16Type: return PrimitiveType.Int;
            case Int64Type or UInt32Type: return PrimitiveType.Long;
            case HalfFloatType or FloatType: return PrimitiveType.Float;
            case DoubleType: return PrimitiveType.Double;
            case Decimal128Type d: return PrimitiveType.Decimal(d.Precision, d.Scale);
            case Date32Type or Date64Type: return PrimitiveType.Date;
            case Time32Type or Time64Type: return PrimitiveType.Time;
            case TimestampType t: return string.IsNullOrEmpty(t.Timezone) ? PrimitiveType.Timestamp : PrimitiveType.TimestampTz;
            case StringType or LargeStringType or StringViewType: return PrimitiveType.String;
            case FixedSizeBinaryType f: return PrimitiveType.Fixed(f.ByteWidth);
            case BinaryType or LargeBinaryType or BinaryViewType: return PrimitiveType.Binary;
            case Apache.Arrow.Types.StructType s:
            {
                var fields = new List<NestedField>(s.Fields.Count);
                foreach (var child in s.Fields)
                    fields.Add(ToIceberg(child, ref next));
                return new Types.StructType(fields);
            }
            case Apache.Arrow.Types.MapType m:
            {
                int keyId = FieldId(m.KeyField) ?? next++;
                int valueId = FieldId(m.ValueField) ?? next++;
                var keyType = ToIcebergType(m.KeyField, ref next);
                var valueType = ToIcebergType(m.ValueField, ref next);
                return new Types.MapType(keyId, keyType, valueId, !m.ValueField.IsNullable, valueType);
            }
            case Apache.Arrow.Types.ListType l:
            {
                int elementId = FieldId(l.ValueField) ?? next++;
                return new Types.ListType(elementId, !l.ValueField.IsNullable, ToIcebergType(l.ValueField, ref next));
            }
            default:
                throw new NotSupportedException(
                    $"Arrow column '{field.Name}' has type {type.Name}, which has no Iceberg type; valid: boolean, integers, " +
                    "float, double, decimal128, date, time, timestamp, string, binary, fixed-size binary, struct, list, map.");
        }
    }

    private static int MaxId(IEnumerable<ArrowField> fields)
    {
        int max = 0;
        foreach (var f in fields)
        {
            max = Math.Max(max, FieldId(f) ?? 0);
            max = Math.Max(max, f.DataType switch
            {
                Apache.Arrow.Types.StructType s => MaxId(s.Fields),
                Apache.Arrow.Types.MapType m => MaxId([m.KeyField, m.ValueField]),
                Apache.Arrow.Types.ListType l => MaxId([l.ValueField]),
                _ => 0,
            });
        }
        return max;
    }

    private static ArrowField Field(string name, IcebergType type, bool nullable, int id)
    {
        var metadata = new Dictionary<string, string> { [FieldIdKey] = id.ToString(CultureInfo.InvariantCulture) };
        if (type.TypeId == TypeId.Uuid)
            metadata[ExtensionNameKey] = UuidExtensionName;
        return new ArrowField(name, ToArrowType(type), nullable, metadata);
    }

    private static IArrowType Primitive(PrimitiveType type) => type switch
    {
        DecimalType d => new Decimal128Type(d.Precision, d.Scale),
        FixedType f => new FixedSizeBinaryType(f.Length),
        _ => type.TypeId switch
        {
            TypeId.Boolean => BooleanType.Default,
            TypeId.Int => Int32Type.Default,
            TypeId.Long => Int64Type.Default,
            TypeId.Float => FloatType.Default,
            TypeId.Double => DoubleType.Default,
            TypeId.Date => Date32Type.Default,
            TypeId.Time => new Time64Type(TimeUnit.Microsecond),
            TypeId.Timestamp => new TimestampType(TimeUnit.Microsecond, (string?)null),
            TypeId.TimestampTz => new TimestampType(TimeUnit.Microsecond, "UTC"),
            TypeId.String => StringType.Default,
            TypeId.Uuid => new FixedSizeBinaryType(16),
            TypeId.Binary => BinaryType.Default,
            _ => throw new NotSupportedException($"Iceberg type {type} has no Arrow mapping."),
        },
    };
}
