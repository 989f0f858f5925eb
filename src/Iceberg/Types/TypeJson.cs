using System.Text.Json;

namespace DataPlane.Iceberg.Types;

/// <summary>Types as JSON, exactly as the table spec's Appendix C: primitives as strings, nested types as objects.</summary>
public static class TypeJson
{
    /// <param name="fieldIds">
    /// False for the same form without field ids (a stream definition's, whose reader assigns them): no element, key
    /// and value ids, and nested fields as <c>{"name", "type", "required"}</c> (<see cref="WriteFieldWithoutId"/>).
    /// </param>
    public static void Write(Utf8JsonWriter w, IcebergType type, bool fieldIds = true)
    {
        switch (type)
        {
            case PrimitiveType p:
                w.WriteStringValue(p.ToString());
                break;
            case StructType s:
                w.WriteStartObject();
                w.WriteString("type", "struct");
                if (fieldIds)
                {
                    WriteFields(w, s.Fields);
                }
                else
                {
                    w.WriteStartArray("fields");
                    foreach (var f in s.Fields)
                        WriteFieldWithoutId(w, f.Name, f.Type, f.Required);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                break;
            case ListType l:
                w.WriteStartObject();
                w.WriteString("type", "list");
                if (fieldIds) w.WriteNumber("element-id", l.ElementId);
                w.WritePropertyName("element");
                Write(w, l.ElementType, fieldIds);
                w.WriteBoolean("element-required", l.ElementRequired);
                w.WriteEndObject();
                break;
            case MapType m:
                w.WriteStartObject();
                w.WriteString("type", "map");
                if (fieldIds) w.WriteNumber("key-id", m.KeyId);
                w.WritePropertyName("key");
                Write(w, m.KeyType, fieldIds);
                if (fieldIds) w.WriteNumber("value-id", m.ValueId);
                w.WritePropertyName("value");
                Write(w, m.ValueType, fieldIds);
                w.WriteBoolean("value-required", m.ValueRequired);
                w.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"Unknown type {type}");
        }
    }

    /// <summary>A field without its id: <c>{"name", "type", "required"}</c>, the type also without ids.</summary>
    public static void WriteFieldWithoutId(Utf8JsonWriter w, string name, IcebergType type, bool required)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WritePropertyName("type");
        Write(w, type, fieldIds: false);
        w.WriteBoolean("required", required);
        w.WriteEndObject();
    }

    public static void WriteFields(Utf8JsonWriter w, IReadOnlyList<NestedField> fields)
    {
        w.WriteStartArray("fields");
        foreach (var f in fields)
        {
            w.WriteStartObject();
            w.WriteNumber("id", f.Id);
            w.WriteString("name", f.Name);
            w.WriteBoolean("required", f.Required);
            w.WritePropertyName("type");
            Write(w, f.Type);
            if (f.Doc is not null) w.WriteString("doc", f.Doc);
            if (f.InitialDefaultJson is not null)
            {
                w.WritePropertyName("initial-default");
                w.WriteRawValue(f.InitialDefaultJson);
            }
            if (f.WriteDefaultJson is not null)
            {
                w.WritePropertyName("write-default");
                w.WriteRawValue(f.WriteDefaultJson);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static IcebergType Read(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.String) return PrimitiveType.Parse(e.GetString()!);
        if (e.ValueKind != JsonValueKind.Object)
            throw new FormatException($"A type must be a JSON string or object, not {e.ValueKind}: {e.GetRawText()}");
        var kind = Json.RequiredString(e, "type");
        return kind switch
        {
            "struct" => new StructType(ReadFields(e)),
            "list" => new ListType(Json.RequiredInt(e, "element-id"), Json.RequiredBool(e, "element-required"), Read(Json.Required(e, "element"))),
            "map" => new MapType(Json.RequiredInt(e, "key-id"), Read(Json.Required(e, "key")),
                Json.RequiredInt(e, "value-id"), Json.RequiredBool(e, "value-required"), Read(Json.Required(e, "value"))),
            _ => throw new FormatException($"Unknown nested type '{kind}'; valid: struct, list, map."),
        };
    }

    public static List<NestedField> ReadFields(JsonElement structObject)
    {
        var fields = new List<NestedField>();
        foreach (var f in Json.Required(structObject, "fields").EnumerateArray())
        {
            fields.Add(new NestedField(
                Json.RequiredInt(f, "id"),
                Json.RequiredString(f, "name"),
                Json.RequiredBool(f, "required"),
                Read(Json.Required(f, "type")),
                Json.OptionalString(f, "doc"),
                f.TryGetProperty("initial-default", out var i) ? i.GetRawText() : null,
                f.TryGetProperty("write-default", out var d) ? d.GetRawText() : null));
        }
        return fields;
    }
}
