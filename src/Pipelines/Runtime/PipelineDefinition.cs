using System.Globalization;
using System.Text.Json;
using DataPlane.SqlTransforms;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A pipeline as declared: its name, its SQL (one or more <c>INSERT INTO &lt;sink&gt; SELECT ... FROM &lt;stream&gt;</c>
/// statements, one per sink), optionally the sink that receives the records its statements fail on, and the shards
/// of its keyed state (<c>"parallelism"</c>; null: the server's setting).
/// The SQL is compiled against the stream's schema when the pipeline starts (<see cref="PipelineRegistry"/>).
/// </summary>
internal sealed record PipelineDefinition(string Name, string Sql, string? DeadLetter, DateTimeOffset CreatedAt)
{
    /// <summary>Most shards a pipeline may ask for.</summary>
    public const int MaxParallelism = 1024;

    public int? Parallelism { get; init; }

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
        if (sql.Length > SqlLimits.MaxLength)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The SQL text is {sql.Length} characters; the limit is {SqlLimits.MaxLength} characters."));
        string? deadLetter = null;
        if (json.TryGetProperty("dead_letter", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            deadLetter = d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            if (!ResourceName.IsValid(deadLetter))
                throw new ArgumentException("\"dead_letter\" names the sink that receives the records the SQL fails on: " +
                    (deadLetter is null ? $"a string, {ResourceName.Rule}." : $"'{deadLetter}' is not a sink name ({ResourceName.Rule})."));
        }
        int? parallelism = null;
        if (json.TryGetProperty("parallelism", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out int shards) || shards < 1 || shards > MaxParallelism)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"\"parallelism\" is the number of shards of the pipeline's keyed state, a whole number from 1 to {MaxParallelism}; {p.GetRawText()} is not."));
            parallelism = shards;
        }
        if (json.TryGetProperty("created_at", out var c) && c.ValueKind == JsonValueKind.String && c.TryGetDateTimeOffset(out var stored))
            createdAt = stored;
        return new PipelineDefinition(name!, sql, deadLetter, createdAt) { Parallelism = parallelism };
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        w.WriteString("sql", Sql);
        if (DeadLetter is not null)
            w.WriteString("dead_letter", DeadLetter);
        if (Parallelism is { } parallelism)
            w.WriteNumber("parallelism", parallelism);
        w.WriteString("created_at", CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }
}
