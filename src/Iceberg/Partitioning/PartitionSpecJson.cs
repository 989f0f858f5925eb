using System.Text.Json;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>Partition specs as JSON (Appendix C): <c>{"spec-id":0,"fields":[{"name","transform","source-id","field-id"}]}</c>.</summary>
public static class PartitionSpecJson
{
    public static void Write(Utf8JsonWriter w, PartitionSpec spec)
    {
        w.WriteStartObject();
        w.WriteNumber("spec-id", spec.SpecId);
        w.WritePropertyName("fields");
        WriteFields(w, spec.Fields);
        w.WriteEndObject();
    }

    public static void WriteFields(Utf8JsonWriter w, IReadOnlyList<PartitionField> fields)
    {
        w.WriteStartArray();
        foreach (var f in fields)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("transform", f.Transform.ToString());
            w.WriteNumber("source-id", f.SourceId);
            w.WriteNumber("field-id", f.FieldId);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static PartitionSpec Read(JsonElement e) =>
        new(Json.OptionalInt(e, "spec-id") ?? 0, ReadFields(Json.Required(e, "fields")));

    /// <summary>Reads a field list; v1 fields without <c>field-id</c> get ids from 1000 in order, as the reference implementation assigned them.</summary>
    public static List<PartitionField> ReadFields(JsonElement array)
    {
        var fields = new List<PartitionField>();
        var next = PartitionSpec.FirstFieldId;
        foreach (var f in array.EnumerateArray())
        {
            var sourceId = Json.OptionalInt(f, "source-id")
                ?? (f.TryGetProperty("source-ids", out var ids) && ids.GetArrayLength() == 1 ? ids[0].GetInt32()
                    : throw new FormatException($"Partition field needs 'source-id': {f.GetRawText()}"));
            var field = new PartitionField(sourceId, Json.OptionalInt(f, "field-id") ?? next, Json.RequiredString(f, "name"),
                Transform.Parse(Json.RequiredString(f, "transform")));
            fields.Add(field);
            next = Math.Max(next, field.FieldId) + 1;
        }
        return fields;
    }
}
