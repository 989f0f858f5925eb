using System.Text.Json;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Schemas;

/// <summary>Schemas as JSON (Appendix C): a struct object plus <c>schema-id</c> and <c>identifier-field-ids</c>.</summary>
public static class SchemaJson
{
    public static void Write(Utf8JsonWriter w, Schema schema)
    {
        w.WriteStartObject();
        w.WriteString("type", "struct");
        w.WriteNumber("schema-id", schema.SchemaId);
        if (schema.IdentifierFieldIds.Count > 0)
        {
            w.WriteStartArray("identifier-field-ids");
            foreach (var id in schema.IdentifierFieldIds) w.WriteNumberValue(id);
            w.WriteEndArray();
        }
        TypeJson.WriteFields(w, schema.Columns);
        w.WriteEndObject();
    }

    /// <summary>Reads a schema; v1 schemas without <c>schema-id</c> get <paramref name="defaultSchemaId"/>.</summary>
    public static Schema Read(JsonElement e, int defaultSchemaId = 0)
    {
        var type = Json.OptionalString(e, "type");
        if (type is not null and not "struct")
            throw new FormatException($"A schema must be a struct, got type '{type}'.");
        return new Schema(Json.OptionalInt(e, "schema-id") ?? defaultSchemaId, TypeJson.ReadFields(e), Json.IntList(e, "identifier-field-ids"));
    }
}
