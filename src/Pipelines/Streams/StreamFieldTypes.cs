using System.Text.Json;
using DataPlane.Iceberg.Types;
using TypeId = DataPlane.Iceberg.Types.TypeId;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// The types a stream field may have, as the management API spells them: Iceberg primitive type names
/// (<c>"decimal(10,2)"</c> among them) and nested types as objects without field ids —
/// <c>{"type": "struct", "fields": [...]}</c>, <c>{"type": "list", "element": ...}</c>,
/// <c>{"type": "map", "key": "string", "value": ...}</c>. Nested field ids are assigned depth-first after the
/// top-level ones, so the same definition always gets the same ids. Written back by <see cref="TypeJson.WriteFieldWithoutId"/>.
/// </summary>
internal static class StreamFieldTypes
{
    private static readonly TypeId[] Primitives =
    [
        TypeId.Boolean, TypeId.Int, TypeId.Long, TypeId.Float, TypeId.Double, TypeId.Decimal, TypeId.Date, TypeId.Time,
        TypeId.Timestamp, TypeId.TimestampTz, TypeId.String, TypeId.Uuid, TypeId.Fixed, TypeId.Binary,
    ];

    public const string SupportedList =
        "boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, fixed[L], binary, " +
        "or nested {\"type\": \"struct\", \"fields\": [...]}, {\"type\": \"list\", \"element\": ...}, {\"type\": \"map\", \"key\": \"string\", \"value\": ...}";

    /// <param name="path">The field's name (dotted inside structs), for messages.</param>
    /// <param name="nextId">The next free id for nested fields, list elements and map keys and values.</param>
    public static IcebergType Parse(JsonElement type, string path, ref int nextId)
    {
        if (type.ValueKind == JsonValueKind.String)
        {
            string name = type.GetString()!;
            PrimitiveType primitive;
            try { primitive = PrimitiveType.Parse(name); }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new ArgumentException($"Field '{path}' has type '{name}', which is not an Iceberg type; use one of: {SupportedList}.");
            }
            if (System.Array.IndexOf(Primitives, primitive.TypeId) < 0)
                throw new ArgumentException($"Field '{path}' has type '{name}', which streams do not take yet; use one of: {SupportedList}.");
            return primitive;
        }
        if (type.ValueKind != JsonValueKind.Object || !type.TryGetProperty("type", out var kind) || kind.ValueKind != JsonValueKind.String)
            throw new ArgumentException($"Field '{path}' has type {type.GetRawText()}; use one of: {SupportedList}.");
        switch (kind.GetString())
        {
            case "struct":
            {
                if (!type.TryGetProperty("fields", out var fields) || fields.ValueKind != JsonValueKind.Array || fields.GetArrayLength() == 0)
                    throw new ArgumentException($"Field '{path}' is a struct without \"fields\"; give them as [{{\"name\": ..., \"type\": ...}}].");
                int id = nextId;
                nextId += fields.GetArrayLength();
                var children = new List<NestedField>();
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var f in fields.EnumerateArray())
                {
                    var (name, fieldType, required) = ParseField(f, path + ".", children.Count, ref nextId);
                    if (!names.Add(name))
                        throw new ArgumentException($"Field '{path}.{name}' appears twice in the struct; field names must be unique.");
                    children.Add(new NestedField(id++, name, required, fieldType));
                }
                return new StructType(children);
            }
            case "list":
            {
                if (!type.TryGetProperty("element", out var element))
                    throw new ArgumentException($"Field '{path}' is a list without an \"element\" type.");
                int id = nextId++;
                var elementType = Parse(element, path + "[]", ref nextId);
                return new ListType(id, Bool(type, "element-required", path), elementType);
            }
            case "map":
            {
                if (!type.TryGetProperty("key", out var key) || !type.TryGetProperty("value", out var value))
                    throw new ArgumentException($"Field '{path}' is a map without \"key\" and \"value\" types.");
                int keyId = nextId++, valueId = nextId++;
                var keyType = Parse(key, path + ".key", ref nextId);
                if (keyType.TypeId != TypeId.String)
                    throw new ArgumentException($"Field '{path}' is a map with {keyType} keys; JSON object keys are strings, so map keys must be \"string\".");
                var valueType = Parse(value, path + ".value", ref nextId);
                return new MapType(keyId, keyType, valueId, Bool(type, "value-required", path), valueType);
            }
            default:
                throw new ArgumentException($"Field '{path}' has type '{kind.GetString()}'; use one of: {SupportedList}.");
        }
    }

    /// <summary>Reads <c>{"name", "type", "required"}</c>.</summary>
    public static (string Name, IcebergType Type, bool Required) ParseField(JsonElement f, string prefix, int index, ref int nextId)
    {
        string? name = f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"Field {prefix}{index} of the schema has no \"name\".");
        if (!f.TryGetProperty("type", out var type))
            throw new ArgumentException($"Field '{prefix}{name}' has no \"type\"; use one of: {SupportedList}.");
        return (name, Parse(type, prefix + name, ref nextId), Bool(f, "required", prefix + name));
    }

    private static bool Bool(JsonElement o, string property, string path) =>
        o.TryGetProperty(property, out var v) && v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => false,
            _ => throw new ArgumentException($"Field '{path}': \"{property}\" must be true or false."),
        };
}
