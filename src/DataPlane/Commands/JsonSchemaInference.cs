using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Ingest;

namespace DataPlane.Commands;

/// <summary>
/// A stream schema (<c>{"fields": [...]}</c>, as streams declare theirs) for sample JSON records, for <c>dataplane sql
/// run</c> without <c>--schema</c>: fields in the order they first appear; true/false boolean, whole numbers long, other
/// numbers double (long and double together: double), text string, or timestamptz/timestamp when every value is an ISO
/// 8601 date-time (with or without a zone), arrays lists, objects structs; a field only ever null is a string. A field
/// whose values are of two kinds is refused, naming it (give <c>--schema</c>).
/// </summary>
internal static class JsonSchemaInference
{
    private enum Kind { Null, Boolean, Long, Double, String, TimestampTz, Timestamp, List, Struct }

    private sealed class Inferred
    {
        public Kind Kind;
        public Inferred? Element;
        public Dictionary<string, Inferred>? Fields;
    }

    public static string Infer(ReadOnlySpan<byte> body)
    {
        var top = new Inferred { Kind = Kind.Struct, Fields = [] };
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = 64 });
        bool array = false;
        int record = 0;
        while (reader.Read())
        {
            if (record == 0 && !array && reader.TokenType == JsonTokenType.StartArray) { array = true; continue; }
            if (array && reader.TokenType == JsonTokenType.EndArray) break;
            using var value = JsonDocument.ParseValue(ref reader);
            record++;
            if (value.RootElement.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"Record {record} is {value.RootElement.ValueKind.ToString().ToLowerInvariant()}, not a JSON object.");
            Merge(top, value.RootElement, "");
        }
        if (top.Fields!.Count == 0)
            throw new ArgumentException("The input has no records with fields; give records such as {\"id\": 1} (NDJSON or a JSON array).");
        var json = new StringBuilder();
        Write(json, top);
        return json.ToString();
    }

    private static void Merge(Inferred into, JsonElement value, string path)
    {
        var kind = value.ValueKind switch
        {
            JsonValueKind.Null => Kind.Null,
            JsonValueKind.True or JsonValueKind.False => Kind.Boolean,
            JsonValueKind.Number => value.TryGetInt64(out _) ? Kind.Long : Kind.Double,
            JsonValueKind.String => TextKind(value),
            JsonValueKind.Array => Kind.List,
            _ => Kind.Struct,
        };
        if (kind == Kind.Null)
            return;
        if (into.Kind == Kind.Null)
        {
            into.Kind = kind;
            if (kind == Kind.List) into.Element = new Inferred();
            if (kind == Kind.Struct) into.Fields = [];
        }
        else if (into.Kind != kind)
        {
            if (Numeric(into.Kind) && Numeric(kind)) kind = into.Kind = Kind.Double;
            else if (Text(into.Kind) && Text(kind)) kind = into.Kind = Kind.String;
            else
                throw new ArgumentException($"Field '{path}' is {Describe(into.Kind)} in one record and {Describe(kind)} in another; give its type with --schema.");
        }
        if (kind == Kind.List)
            foreach (var element in value.EnumerateArray())
                Merge(into.Element!, element, path + "[]");
        else if (kind == Kind.Struct)
            foreach (var property in value.EnumerateObject())
            {
                if (!into.Fields!.TryGetValue(property.Name, out var field))
                    into.Fields[property.Name] = field = new Inferred();
                Merge(field, property.Value, path.Length == 0 ? property.Name : path + "." + property.Name);
            }
    }

    private static Kind TextKind(JsonElement value)
    {
        var text = Encoding.UTF8.GetBytes(value.GetString()!);
        // A date-time (a 'T' or a space after the date): what the ingest parser reads as a timestamp.
        if (text.Length >= 16 && (text[10] == (byte)'T' || text[10] == (byte)' ') && IsoTimestamp.TryParse(text, out _, out bool zoned))
            return zoned ? Kind.TimestampTz : Kind.Timestamp;
        return Kind.String;
    }

    private static bool Numeric(Kind k) => k is Kind.Long or Kind.Double;
    private static bool Text(Kind k) => k is Kind.String or Kind.Timestamp or Kind.TimestampTz;

    private static string Describe(Kind k) => k switch
    {
        Kind.Boolean => "a boolean",
        Kind.Long or Kind.Double => "a number",
        Kind.List => "an array",
        Kind.Struct => "an object",
        _ => "a string",
    };

    private static void Write(StringBuilder json, Inferred top)
    {
        json.Append("{\"fields\": ");
        WriteFields(json, top.Fields!);
        json.Append('}');
    }

    private static void WriteFields(StringBuilder json, Dictionary<string, Inferred> fields)
    {
        json.Append('[');
        bool first = true;
        foreach (var (name, type) in fields)
        {
            if (!first) json.Append(", ");
            first = false;
            json.Append("{\"name\": ").Append(JsonSerializer.Serialize(name)).Append(", \"type\": ");
            WriteType(json, type);
            json.Append('}');
        }
        json.Append(']');
    }

    private static void WriteType(StringBuilder json, Inferred type)
    {
        switch (type.Kind)
        {
            case Kind.Boolean: json.Append("\"boolean\""); break;
            case Kind.Long: json.Append("\"long\""); break;
            case Kind.Double: json.Append("\"double\""); break;
            case Kind.TimestampTz: json.Append("\"timestamptz\""); break;
            case Kind.Timestamp: json.Append("\"timestamp\""); break;
            case Kind.List:
                json.Append("{\"type\": \"list\", \"element\": ");
                WriteType(json, type.Element!);
                json.Append('}');
                break;
            case Kind.Struct when type.Fields!.Count > 0:
                json.Append("{\"type\": \"struct\", \"fields\": ");
                WriteFields(json, type.Fields);
                json.Append('}');
                break;
            case Kind.Struct:
                // Only ever {}: a map has no fields to name.
                json.Append("{\"type\": \"map\", \"key\": \"string\", \"value\": \"string\"}");
                break;
            default: json.Append("\"string\""); break;
        }
    }
}
