using DataPlane.Catalog.DataFiles;
using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Catalog.Types;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Catalog.Schemas.Schema;
using TypeId = DataPlane.Catalog.Types.TypeId;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// A stream as declared through the management API: its name and either typed fields or, when schemaless, one
/// required string column holding each record's JSON text.
/// </summary>
internal sealed class StreamDefinition
{
    /// <summary>The one column of a schemaless stream.</summary>
    public const string SchemalessColumn = "value";

    private static readonly TypeId[] Supported =
    [
        TypeId.Boolean, TypeId.Int, TypeId.Long, TypeId.Float, TypeId.Double, TypeId.Date, TypeId.Time,
        TypeId.Timestamp, TypeId.TimestampTz, TypeId.String, TypeId.Uuid, TypeId.Binary,
    ];

    public StreamDefinition(string name, IReadOnlyList<StreamField> fields, bool schemaless, DateTimeOffset createdAt)
    {
        Name = name;
        Fields = fields;
        Schemaless = schemaless;
        CreatedAt = createdAt;
        ArrowSchema = new ArrowSchema(fields.Select(ToArrow), metadata: null);
        IcebergSchema = new IcebergSchema(fields.Select(f => new NestedField(f.Id, f.Name, f.Required, f.Type)));
    }

    public string Name { get; }
    public IReadOnlyList<StreamField> Fields { get; }
    public bool Schemaless { get; }
    public DateTimeOffset CreatedAt { get; }
    public ArrowSchema ArrowSchema { get; }
    public IcebergSchema IcebergSchema { get; }

    /// <summary>Reads a create request (or a stored definition); throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static StreamDefinition Parse(JsonElement json, DateTimeOffset createdAt)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("The body must be a JSON object such as {\"name\": \"events\", \"schema\": {\"fields\": [...]}}.");
        string? name = json.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (!ResourceName.IsValid(name))
            throw new ArgumentException(ResourceName.Problem("stream", name));
        if (json.TryGetProperty("created_at", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTimeOffset(out var stored))
            createdAt = stored;

        if (!json.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
            return new StreamDefinition(name!, [new StreamField(1, SchemalessColumn, PrimitiveType.String, true)], schemaless: true, createdAt);
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("fields", out var fieldsJson) || fieldsJson.ValueKind != JsonValueKind.Array)
            throw new ArgumentException("\"schema\" must be an object with a \"fields\" array, e.g. {\"fields\": [{\"name\": \"id\", \"type\": \"long\", \"required\": true}]}; leave it out for a schemaless stream.");

        var fields = new List<StreamField>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in fieldsJson.EnumerateArray())
        {
            int index = fields.Count;
            string? fieldName = f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var fn) && fn.ValueKind == JsonValueKind.String ? fn.GetString() : null;
            if (string.IsNullOrEmpty(fieldName))
                throw new ArgumentException($"Field {index} of the schema has no \"name\".");
            if (!names.Add(fieldName))
                throw new ArgumentException($"Field '{fieldName}' appears twice in the schema; field names must be unique.");
            string? typeName = f.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (typeName is null)
                throw new ArgumentException($"Field '{fieldName}' has no \"type\"; use an Iceberg type name: {SupportedList}.");
            PrimitiveType type;
            try { type = PrimitiveType.Parse(typeName); }
            catch (Exception e) when (e is FormatException or ArgumentException) { throw new ArgumentException($"Field '{fieldName}' has type '{typeName}', which is not an Iceberg primitive type; use one of: {SupportedList}."); }
            if (System.Array.IndexOf(Supported, type.TypeId) < 0)
                throw new ArgumentException($"Field '{fieldName}' has type '{typeName}', which streams do not take yet; use one of: {SupportedList}.");
            bool required = f.TryGetProperty("required", out var r) && r.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ArgumentException($"Field '{fieldName}': \"required\" must be true or false."),
            };
            fields.Add(new StreamField(index + 1, fieldName, type, required));
        }
        if (fields.Count == 0)
            throw new ArgumentException("The schema has no fields; give at least one, or leave \"schema\" out for a schemaless stream.");
        return new StreamDefinition(name!, fields, schemaless: false, createdAt);
    }

    public static string SupportedList => string.Join(", ", Supported.Select(t => t.ToString().ToLowerInvariant()));

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        if (Schemaless)
            w.WriteNull("schema");
        else
        {
            w.WriteStartObject("schema");
            w.WriteStartArray("fields");
            foreach (var f in Fields)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("type", f.Type.ToString());
                w.WriteBoolean("required", f.Required);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteString("created_at", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    /// <summary>The Arrow types here are the ones the Iceberg Parquet writer expects for each Iceberg type.</summary>
    private static Field ToArrow(StreamField f)
    {
        var metadata = new Dictionary<string, string> { ["PARQUET:field_id"] = f.Id.ToString(CultureInfo.InvariantCulture) };
        if (f.Type.TypeId == TypeId.Uuid)
            metadata["ARROW:extension:name"] = "arrow.uuid";
        var type = ArrowSchemaMapping.ToArrowType(f.Type);
        return new Field(f.Name, type, !f.Required, metadata);
    }
}
