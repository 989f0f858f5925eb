using System.Text.Json;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Avro;

/// <summary>
/// Iceberg struct types as Avro schema JSON per the spec's Appendix A: optional values as <c>["null", T]</c> with
/// default null, field ids in <c>field-id</c>/<c>element-id</c>, maps as arrays of key/value records with logical
/// type <c>map</c>, records named as the reference implementation names them (<c>r102</c>, <c>k117_v118</c>).
/// </summary>
internal static class AvroSchemaConverter
{
    public static string ToAvroJson(StructType type, string recordName) =>
        Json.Write(w => WriteRecord(w, type, recordName));

    private static void WriteRecord(Utf8JsonWriter w, StructType type, string name)
    {
        w.WriteStartObject();
        w.WriteString("type", "record");
        w.WriteString("name", name);
        w.WriteStartArray("fields");
        foreach (var f in type.Fields)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WritePropertyName("type");
            WriteValue(w, f.Type, f.Required, "r" + f.Id);
            if (f.Doc is not null) w.WriteString("doc", f.Doc);
            if (!f.Required) w.WriteNull("default");
            w.WriteNumber("field-id", f.Id);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, IcebergType type, bool required, string recordName)
    {
        if (!required)
        {
            w.WriteStartArray();
            w.WriteStringValue("null");
        }
        switch (type)
        {
            case StructType s:
                WriteRecord(w, s, recordName);
                break;
            case ListType l:
                w.WriteStartObject();
                w.WriteString("type", "array");
                w.WritePropertyName("items");
                WriteValue(w, l.ElementType, l.ElementRequired, "r" + l.ElementId);
                w.WriteNumber("element-id", l.ElementId);
                w.WriteEndObject();
                break;
            case MapType m:
                w.WriteStartObject();
                w.WriteString("type", "array");
                w.WriteString("logicalType", "map");
                w.WritePropertyName("items");
                WriteRecord(w, new StructType(new NestedField(m.KeyId, "key", true, m.KeyType), new NestedField(m.ValueId, "value", m.ValueRequired, m.ValueType)),
                    $"k{m.KeyId}_v{m.ValueId}");
                w.WriteEndObject();
                break;
            case PrimitiveType p:
                WritePrimitive(w, p, recordName);
                break;
        }
        if (!required) w.WriteEndArray();
    }

    private static void WritePrimitive(Utf8JsonWriter w, PrimitiveType p, string name)
    {
        switch (p)
        {
            case DecimalType d:
                w.WriteStartObject();
                w.WriteString("type", "fixed");
                w.WriteString("name", $"decimal_{d.Precision}_{d.Scale}");
                w.WriteNumber("size", DecimalBytes(d.Precision));
                w.WriteString("logicalType", "decimal");
                w.WriteNumber("precision", d.Precision);
                w.WriteNumber("scale", d.Scale);
                w.WriteEndObject();
                return;
            case FixedType f:
                w.WriteStartObject();
                w.WriteString("type", "fixed");
                w.WriteString("name", $"fixed_{f.Length}");
                w.WriteNumber("size", f.Length);
                w.WriteEndObject();
                return;
        }
        switch (p.TypeId)
        {
            case TypeId.Boolean: w.WriteStringValue("boolean"); break;
            case TypeId.Int: w.WriteStringValue("int"); break;
            case TypeId.Long: w.WriteStringValue("long"); break;
            case TypeId.Float: w.WriteStringValue("float"); break;
            case TypeId.Double: w.WriteStringValue("double"); break;
            case TypeId.String: w.WriteStringValue("string"); break;
            case TypeId.Binary: w.WriteStringValue("bytes"); break;
            case TypeId.Date:
                w.WriteStartObject();
                w.WriteString("type", "int");
                w.WriteString("logicalType", "date");
                w.WriteEndObject();
                break;
            case TypeId.Time:
                w.WriteStartObject();
                w.WriteString("type", "long");
                w.WriteString("logicalType", "time-micros");
                w.WriteEndObject();
                break;
            case TypeId.Timestamp:
            case TypeId.TimestampTz:
                w.WriteStartObject();
                w.WriteString("type", "long");
                w.WriteString("logicalType", "timestamp-micros");
                w.WriteBoolean("adjust-to-utc", p.TypeId == TypeId.TimestampTz);
                w.WriteEndObject();
                break;
            case TypeId.Uuid:
                w.WriteStartObject();
                w.WriteString("type", "fixed");
                w.WriteString("name", "uuid_fixed");
                w.WriteNumber("size", 16);
                w.WriteString("logicalType", "uuid");
                w.WriteEndObject();
                break;
            default:
                throw new NotSupportedException($"No Avro mapping for {p} ({name}).");
        }
    }

    /// <summary>The fewest bytes whose two's complement holds every unscaled value of the precision.</summary>
    public static int DecimalBytes(int precision)
    {
        var max = System.Numerics.BigInteger.Pow(10, precision) - 1;
        var bytes = 1;
        while (System.Numerics.BigInteger.Pow(2, 8 * bytes - 1) <= max) bytes++;
        return bytes;
    }
}
