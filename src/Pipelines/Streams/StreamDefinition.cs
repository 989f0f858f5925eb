using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Types;
using DataPlane.Pipelines.Sources;
using ArrowSchema = Apache.Arrow.Schema;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;
using TypeId = DataPlane.Iceberg.Types.TypeId;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// A stream as declared through the management API: its name and either typed fields or, when schemaless, one
/// required string column holding each record's JSON text.
/// </summary>
internal sealed class StreamDefinition
{
    /// <summary>The one column of a schemaless stream.</summary>
    public const string SchemalessColumn = "value";

    public StreamDefinition(string name, IReadOnlyList<StreamField> fields, bool schemaless, DateTimeOffset createdAt, KafkaSourceDefinition? source = null,
        string? key = null, StreamWatermark? watermark = null)
    {
        Name = name;
        Watermark = watermark;
        Source = source;
        Key = key;
        KeyIndex = key is null ? -1 : fields.ToList().FindIndex(f => f.Name == key);
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
    /// <summary>The Kafka topic the stream consumes; null for a stream fed over HTTP.</summary>
    public KafkaSourceDefinition? Source { get; }
    /// <summary>The field whose value is each record's Kafka message key (a Kafka-backed stream's); null: no key.</summary>
    public string? Key { get; }
    /// <summary>The index of <see cref="Key"/> among <see cref="Fields"/>; -1 without a key.</summary>
    public int KeyIndex { get; }
    /// <summary>The stream's event time and watermark, which every pipeline over it uses; null: declared in a pipeline's SQL, or none.</summary>
    public StreamWatermark? Watermark { get; }
    /// <summary>Whether the stream's records live in its Kafka topic rather than its local ingest log.</summary>
    public bool KafkaBacked => Source is { Produce: true };

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
        var source = json.TryGetProperty("source", out var s) && s.ValueKind != JsonValueKind.Null ? KafkaSourceDefinition.Parse(s) : null;

        string? key = null;
        if (json.TryGetProperty("key", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind != JsonValueKind.String)
                throw new ArgumentException($"\"key\" is {k.GetRawText()}; it names a field of the schema, e.g. \"key\": \"user\".");
            key = k.GetString()!;
            if (source is not { Produce: true })
                throw new ArgumentException($"\"key\": \"{key}\" is for a Kafka-backed stream (\"source\": {{\"type\": \"kafka\", ..., \"produce\": true}}), whose records it partitions.");
        }

        bool hasWatermark = json.TryGetProperty("watermark", out var watermark) && watermark.ValueKind != JsonValueKind.Null;
        if (!json.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
        {
            if (key is not null)
                throw new ArgumentException($"\"key\": \"{key}\" names no field: a schemaless stream has none; declare a schema with that field.");
            var value = new StreamField(1, SchemalessColumn, PrimitiveType.String, true);
            if (hasWatermark)
                StreamWatermark.Parse(watermark, [value], schemaless: true); // refused, naming why
            return new StreamDefinition(name!, [value], schemaless: true, createdAt, source);
        }
        if (schema.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("fields", out var fieldsJson) || fieldsJson.ValueKind != JsonValueKind.Array)
            throw new ArgumentException("\"schema\" must be an object with a \"fields\" array, e.g. {\"fields\": [{\"name\": \"id\", \"type\": \"long\", \"required\": true}]}; leave it out for a schemaless stream.");

        var fields = new List<StreamField>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int nextId = fieldsJson.GetArrayLength() + 1; // nested ids come after the top-level ones
        foreach (var f in fieldsJson.EnumerateArray())
        {
            int index = fields.Count;
            var (fieldName, type, required) = StreamFieldTypes.ParseField(f, "", index, ref nextId);
            if (!names.Add(fieldName))
                throw new ArgumentException($"Field '{fieldName}' appears twice in the schema; field names must be unique.");
            fields.Add(new StreamField(index + 1, fieldName, type, required));
        }
        if (fields.Count == 0)
            throw new ArgumentException("The schema has no fields; give at least one, or leave \"schema\" out for a schemaless stream.");
        if (key is not null)
        {
            var field = fields.FirstOrDefault(f => f.Name == key)
                ?? throw new ArgumentException($"\"key\": \"{key}\" names no field of the schema ({string.Join(", ", fields.Select(f => f.Name))}).");
            if (field.Type.TypeId is not (TypeId.String or TypeId.Int or TypeId.Long))
                throw new ArgumentException($"\"key\": \"{key}\" is a field of type {field.Type}; a key is a string, int or long field.");
        }
        return new StreamDefinition(name!, fields, schemaless: false, createdAt, source, key, hasWatermark ? StreamWatermark.Parse(watermark, fields, schemaless: false) : null);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        if (Schemaless)
            w.WriteNull("schema");
        else
        {
            w.WriteStartObject("schema");
            WriteFields(w);
            w.WriteEndObject();
        }
        w.WriteString("created_at", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        if (Source is not null)
        {
            w.WriteStartObject("source");
            Source.Write(w, redactSecrets: false);
            w.WriteEndObject();
        }
        if (Key is not null)
            w.WriteString("key", Key);
        Watermark?.Write(w);
        w.WriteEndObject();
    }

    /// <summary>The <c>"fields"</c> array as the management API takes it (nested types as objects).</summary>
    public void WriteFields(Utf8JsonWriter w)
    {
        w.WriteStartArray("fields");
        foreach (var f in Fields)
            TypeJson.WriteFieldWithoutId(w, f.Name, f.Type, f.Required);
        w.WriteEndArray();
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
