using System.Globalization;
using System.Text.Json;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// Where a pipeline's records land: an Iceberg table (<c>"type": "iceberg"</c>, namespace, table, partition) or
/// raw files (<c>"type": "files"</c>, <c>"format"</c> parquet or ndjson, a path under the warehouse, <c>year=/month=/day=</c> folders),
/// with the rolling policy that decides when a file is closed and committed. <c>"properties"</c> are table properties
/// an iceberg sink gives the table when it creates it (Iceberg's <c>write.parquet.*</c> among them, checked here), or
/// the write properties of a Parquet files sink's own files.
/// </summary>
internal sealed partial record SinkDefinition(
    string Name,
    string Type,
    string? Namespace,
    string? Table,
    IReadOnlyList<string> Partition,
    string Format,
    string? Path,
    long MaxFileBytes,
    long? MaxRows,
    int IntervalSeconds,
    DateTimeOffset CreatedAt)
{
    public const string Iceberg = "iceberg";
    public const string Files = "files";
    public const string Parquet = "parquet";
    public const string Ndjson = "ndjson";

    /// <summary>At most this many <c>"properties"</c>, each name at most 256 characters and value at most 4,096.</summary>
    public const int MaxProperties = 100;

    private static readonly IReadOnlyDictionary<string, string> NoProperties = new Dictionary<string, string>();

    /// <summary>Table properties for the table the sink creates (iceberg), or write properties of its files (files, parquet).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = NoProperties;

    public static SinkDefinition Parse(JsonElement json, DateTimeOffset createdAt)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("The body must be a JSON object such as {\"name\": \"events_table\", \"type\": \"iceberg\", \"namespace\": \"default\", \"table\": \"events\"}.");
        string? name = Text(json, "name");
        if (!ResourceName.IsValid(name))
            throw new ArgumentException(ResourceName.Problem("sink", name));
        string type = Text(json, "type") ?? Iceberg;
        if (json.TryGetProperty("created_at", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTimeOffset(out var stored))
            createdAt = stored;

        long maxFileBytes = 128L * 1024 * 1024;
        long? maxRows = null;
        int interval = 60;
        if (json.TryGetProperty("rolling", out var rolling) && rolling.ValueKind != JsonValueKind.Null)
        {
            if (rolling.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"\"rolling\" must be an object such as {{\"max_file_bytes\": 134217728, \"max_rows\": 100000, \"interval_seconds\": 60}}, not {rolling.GetRawText()}.");
            if (rolling.TryGetProperty("max_file_bytes", out var b) && b.ValueKind != JsonValueKind.Null)
                maxFileBytes = Positive(b, "rolling.max_file_bytes");
            if (rolling.TryGetProperty("max_rows", out var r) && r.ValueKind != JsonValueKind.Null)
                maxRows = Positive(r, "rolling.max_rows");
            if (rolling.TryGetProperty("interval_seconds", out var s) && s.ValueKind != JsonValueKind.Null)
                interval = (int)Math.Min(Positive(s, "rolling.interval_seconds"), 24 * 3600);
        }

        var partition = new List<string>();
        if (json.TryGetProperty("partition", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Array)
                throw new ArgumentException($"\"partition\" is a list of transform terms such as [\"day(ts)\", \"bucket(16, id)\"], not {Shorten(p.GetRawText())}.");
            foreach (var term in p.EnumerateArray())
            {
                if (term.ValueKind != JsonValueKind.String)
                    throw new ArgumentException($"\"partition\" holds transform terms as strings, e.g. [\"day(ts)\"]; {Shorten(term.GetRawText())} is not one.");
                partition.Add(term.GetString()!);
            }
            PartitionTerms.Check(partition);
        }

        var properties = ParseProperties(json);

        switch (type)
        {
            case Iceberg:
            {
                string ns = Text(json, "namespace") ?? "default";
                string? table = Text(json, "table") ?? name;
                if (!ResourceName.IsValid(ns) || !ResourceName.IsValid(table))
                    throw new ArgumentException($"Namespace '{ns}' and table '{table}' must each be {ResourceName.Rule}.");
                return new SinkDefinition(name!, type, ns, table, partition, "parquet", null, maxFileBytes, maxRows, interval, createdAt) { Properties = properties };
            }
            case Files:
            {
                string format = Text(json, "format") ?? Parquet;
                if (format is not (Parquet or Ndjson))
                    throw new ArgumentException($"File format '{format}' is not supported; use \"parquet\" or \"ndjson\".");
                string path = (Text(json, "path") ?? name!).Trim('/');
                if (path.Length is 0 or > 512 || !path.Split('/').All(PathPart().IsMatch))
                    throw new ArgumentException($"Path '{path}' is not valid: give folders under the warehouse such as \"raw/events\", each a letter or digit " +
                        "then letters, digits, '.', '_', '=' or '-' (at most 512 characters in all).");
                if (partition.Count > 0)
                    throw new ArgumentException("File sinks are laid out by date (year=/month=/day=); \"partition\" applies to iceberg sinks only.");
                if (properties.Count > 0 && format != Parquet)
                    throw new ArgumentException($"\"properties\" are Parquet write properties; a {format} files sink takes none.");
                return new SinkDefinition(name!, type, null, null, partition, format, path, maxFileBytes, maxRows, interval, createdAt) { Properties = properties };
            }
            default:
                throw new ArgumentException($"Sink type '{type}' is unknown; use \"iceberg\" or \"files\".");
        }
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("type", Type);
        if (Type == Iceberg)
        {
            w.WriteString("namespace", Namespace);
            w.WriteString("table", Table);
            w.WriteStartArray("partition");
            foreach (var term in Partition)
                w.WriteStringValue(term);
            w.WriteEndArray();
        }
        else
        {
            w.WriteString("format", Format);
            w.WriteString("path", Path);
        }
        if (Properties.Count > 0)
        {
            w.WriteStartObject("properties");
            foreach (var (key, value) in Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
                w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteStartObject("rolling");
        w.WriteNumber("max_file_bytes", MaxFileBytes);
        if (MaxRows is { } rows) w.WriteNumber("max_rows", rows); else w.WriteNull("max_rows");
        w.WriteNumber("interval_seconds", IntervalSeconds);
        w.WriteEndObject();
        w.WriteString("created_at", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>"properties"</c>: an object of names to strings (numbers are taken as their text); the write properties among
    /// them are checked as the table's would be, so a bad codec or size is refused now, not when the first file is written.
    /// </summary>
    private static IReadOnlyDictionary<string, string> ParseProperties(JsonElement json)
    {
        if (!json.TryGetProperty("properties", out var p) || p.ValueKind == JsonValueKind.Null)
            return NoProperties;
        if (p.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"\"properties\" must be an object of table properties such as {{\"write.parquet.compression-codec\": \"snappy\"}}, not {Shorten(p.GetRawText())}.");
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in p.EnumerateObject())
        {
            if (properties.Count == MaxProperties)
                throw new ArgumentException($"\"properties\" holds more than {MaxProperties} properties.");
            if (property.Name.Length is 0 or > 256)
                throw new ArgumentException($"\"properties\" names are 1 to 256 characters; '{Shorten(property.Name)}' is not.");
            var value = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number => property.Value.GetRawText(),
                _ => throw new ArgumentException($"\"properties\".\"{Shorten(property.Name)}\" must be a string, not {Shorten(property.Value.GetRawText())}."),
            };
            if (value.Length > 4096)
                throw new ArgumentException($"\"properties\".\"{Shorten(property.Name)}\" is longer than 4,096 characters.");
            properties[property.Name] = value;
        }
        DataPlane.Iceberg.DataFiles.TableWriteProperties.Check(properties);
        return properties;
    }

    /// <summary>The property's text; null when absent or null; an <see cref="ArgumentException"/> when it is another kind of value.</summary>
    private static string? Text(JsonElement json, string property) =>
        !json.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw new ArgumentException($"\"{property}\" must be a string, not {Shorten(v.GetRawText())}.");

    /// <summary>A folder of a file sink's path: no '.' or '_' first (no '..', no hidden or DataPlane folder), nothing a URL or S3 key must escape.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex PathPart();

    /// <summary>A value for a message: the start of a long one.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

    private static long Positive(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) && n > 0
            ? n
            : throw new ArgumentException($"\"{what}\" must be a positive whole number, not {value.GetRawText()}.");
}
