using System.Globalization;
using System.Text.Json;
using DataPlane.Pipelines.Sql;

namespace DataPlane.Pipelines.Runtime;

/// <summary>A pipeline as declared: its name and its one SQL statement.</summary>
internal sealed record PipelineDefinition(string Name, string Sql, PipelineStatement Statement, DateTimeOffset CreatedAt)
{
    public static PipelineDefinition Parse(JsonElement json, DateTimeOffset createdAt)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("The body must be a JSON object such as {\"name\": \"events_pipeline\", \"sql\": \"INSERT INTO events_table SELECT * FROM events\"}.");
        string? name = json.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (!ResourceName.IsValid(name))
            throw new ArgumentException(ResourceName.Problem("pipeline", name));
        string? sql = json.TryGetProperty("sql", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (string.IsNullOrWhiteSpace(sql))
            throw new ArgumentException("The pipeline needs \"sql\": INSERT INTO <sink> SELECT * FROM <stream>.");
        if (json.TryGetProperty("created_at", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTimeOffset(out var stored))
            createdAt = stored;
        return new PipelineDefinition(name!, sql, PipelineSqlParser.Parse(sql), createdAt);
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("sql", Sql);
        w.WriteString("created_at", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
