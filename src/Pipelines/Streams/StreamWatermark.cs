using System.Text.Json;
using DataPlane.Iceberg.Types;
using DataPlane.SqlTransforms.EventTime;
using TypeId = DataPlane.Iceberg.Types.TypeId;

namespace DataPlane.Pipelines.Streams;

/// <summary>
/// A stream's event time as its JSON declares it: <c>"watermark": {"column": "ts", "delay": "5 seconds",
/// "idle_timeout": "30 seconds"}</c>. Every pipeline over the stream runs as if its SQL declared
/// <c>WATERMARK FOR ts AS ts - INTERVAL '5' SECOND IDLE TIMEOUT INTERVAL '30' SECOND</c>; the texts are kept as given.
/// </summary>
internal sealed class StreamWatermark
{
    private StreamWatermark(string column, string? delay, string? idleTimeout, WatermarkDefinition definition)
    {
        Column = column;
        Delay = delay;
        IdleTimeout = idleTimeout;
        Definition = definition;
    }

    public string Column { get; }
    /// <summary>As given (null: none, the watermark is the largest event time seen).</summary>
    public string? Delay { get; }
    public string? IdleTimeout { get; }
    /// <summary>What the SQL engine takes as the stream's watermark.</summary>
    public WatermarkDefinition Definition { get; }

    /// <summary>Longer than any column name or interval text: refused, quoted in part.</summary>
    private const int MaxText = 200;

    private const string Shape = "{\"column\": \"ts\", \"delay\": \"5 seconds\", \"idle_timeout\": \"30 seconds\"}";

    /// <summary>Reads <c>"watermark"</c> against the stream's fields; an <see cref="ArgumentException"/> naming the offending value.</summary>
    public static StreamWatermark Parse(JsonElement json, IReadOnlyList<StreamField> fields, bool schemaless)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"\"watermark\" is {Excerpt(json)}; it is an object such as {Shape}.");
        foreach (var property in json.EnumerateObject())
            if (property.Name is not ("column" or "delay" or "idle_timeout"))
                throw new ArgumentException($"\"watermark\" has \"{Excerpt(property.Name)}\", which it does not know; it takes \"column\", \"delay\" and \"idle_timeout\", e.g. {Shape}.");
        string column = Text(json, "column", required: true)!;
        if (schemaless)
            throw new ArgumentException($"\"watermark\": column \"{Excerpt(column)}\": a schemaless stream has no typed fields; declare a schema with a timestamp field for the event time.");
        var field = fields.FirstOrDefault(f => f.Name == column) ?? fields.FirstOrDefault(f => f.Name.Equals(column, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"\"watermark\": column \"{Excerpt(column)}\" is not a field of the schema ({string.Join(", ", fields.Select(f => f.Name))}).");
        if (field.Type.TypeId is not (TypeId.Timestamp or TypeId.TimestampTz))
            throw new ArgumentException($"\"watermark\": column \"{field.Name}\" is a {field.Type} field; the event time column is a timestamp or timestamptz field.");
        string? delay = Text(json, "delay", required: false);
        string? idle = Text(json, "idle_timeout", required: false);
        WatermarkDefinition definition;
        try
        {
            definition = WatermarkDefinition.Parse(field.Name, delay ?? "0 seconds", idle);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"\"watermark\": {e.Message}.");
        }
        return new StreamWatermark(field.Name, delay, idle, definition);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("watermark");
        w.WriteString("column", Column);
        if (Delay is not null) w.WriteString("delay", Delay);
        if (IdleTimeout is not null) w.WriteString("idle_timeout", IdleTimeout);
        w.WriteEndObject();
    }

    private static string? Text(JsonElement json, string name, bool required)
    {
        if (!json.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return required ? throw new ArgumentException($"\"watermark\" needs \"{name}\", e.g. {Shape}.") : null;
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()) || value.GetString()!.Length > MaxText)
            throw new ArgumentException($"\"watermark\": \"{name}\" is {Excerpt(value)}; it is a text such as {(name == "column" ? "\"ts\"" : "\"5 seconds\"")}.");
        return value.GetString();
    }

    private static string Excerpt(JsonElement value) => Excerpt(value.GetRawText());

    private static string Excerpt(string text) => text.Length <= 60 ? text : text[..60] + "...";
}
