using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Sessions;

namespace DataPlane.Database.Http;

/// <summary>
/// The query API's JSON: request bodies, results and errors. Values map as integer, real, text,
/// null, and blob as <c>{"base64": "..."}</c> (both ways), so a blob is never mistaken for text.
/// </summary>
public static class QueryJson
{
    public static List<SqlStatement> ParseRequest(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw Bad("The body must be a JSON object: {\"sql\": \"...\", \"params\": [...]} or {\"batch\": [{\"sql\": ...}, ...]}.");
        if (body.TryGetProperty("batch", out var batch))
        {
            if (batch.ValueKind != JsonValueKind.Array || batch.GetArrayLength() == 0)
                throw Bad("\"batch\" must be a non-empty array of {\"sql\": ..., \"params\": ...} objects.");
            var list = new List<SqlStatement>(batch.GetArrayLength());
            int i = 0;
            foreach (var item in batch.EnumerateArray()) list.Add(ParseStatement(item, $"batch[{i++}]"));
            return list;
        }
        return [ParseStatement(body, "body")];
    }

    private static SqlStatement ParseStatement(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("sql", out var sqlElement) || sqlElement.ValueKind != JsonValueKind.String
            || sqlElement.GetString() is not { } sql || string.IsNullOrWhiteSpace(sql))
            throw Bad($"{where} needs a non-empty \"sql\" string.");
        if (!element.TryGetProperty("params", out var parameters) || parameters.ValueKind == JsonValueKind.Null)
            return new SqlStatement(sql);
        if (parameters.ValueKind == JsonValueKind.Array)
            return new SqlStatement(sql, [.. parameters.EnumerateArray().Select((p, i) => ParseValue(p, $"{where}.params[{i}]"))]);
        if (parameters.ValueKind == JsonValueKind.Object)
        {
            var named = new Dictionary<string, object?>();
            foreach (var p in parameters.EnumerateObject())
                named[p.Name] = ParseValue(p.Value, $"{where}.params.{p.Name}");
            return new SqlStatement(sql, null, named);
        }
        throw Bad($"{where}.params must be an array (positional) or an object (named).");
    }

    public static object? ParseValue(JsonElement value, string where) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => 1L,
        JsonValueKind.False => 0L,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out long l) ? (object)l : value.GetDouble(),
        JsonValueKind.Object when value.TryGetProperty("base64", out var b64) && b64.ValueKind == JsonValueKind.String =>
            TryBase64(b64.GetString()!) ?? throw Bad($"{where}.base64 is not valid base64."),
        _ => throw Bad($"{where} must be a number, string, boolean, null or {{\"base64\": \"...\"}} (got {value.ValueKind})."),
    };

    private static byte[]? TryBase64(string text)
    {
        try { return Convert.FromBase64String(text); } catch (FormatException) { return null; }
    }

    public static void WriteResult(Utf8JsonWriter writer, QueryResult result)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("results");
        foreach (var statement in result.Results)
        {
            writer.WriteStartObject();
            writer.WriteStartArray("columns");
            foreach (var c in statement.Columns) writer.WriteStringValue(c);
            writer.WriteEndArray();
            writer.WriteStartArray("rows");
            foreach (var row in statement.Rows)
            {
                writer.WriteStartArray();
                foreach (var v in row) WriteValue(writer, v);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteStartObject("meta");
            writer.WriteNumber("rows_read", statement.RowsRead);
            writer.WriteNumber("rows_written", statement.RowsWritten);
            writer.WriteNumber("changes", statement.RowsWritten);
            writer.WriteNumber("last_row_id", statement.LastRowId);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartObject("meta");
        writer.WriteString("served_by", result.ServedBy);
        writer.WriteNumber("duration", Math.Round(result.DurationMs, 3));
        writer.WriteNumber("rows_read", result.RowsRead);
        writer.WriteNumber("rows_written", result.RowsWritten);
        writer.WriteNumber("changes", result.RowsWritten);
        writer.WriteNumber("last_row_id", result.LastRowId);
        writer.WriteEndObject();
        writer.WriteString("bookmark", Bookmark.Format(result.Position));
        writer.WriteEndObject();
    }

    public static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case long l: writer.WriteNumberValue(l); break;
            case int n: writer.WriteNumberValue(n); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case double d: writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case string s: writer.WriteStringValue(s); break;
            case byte[] bytes:
                writer.WriteStartObject();
                writer.WriteBase64String("base64", bytes);
                writer.WriteEndObject();
                break;
            default: writer.WriteStringValue(value.ToString()); break;
        }
    }

    public static void WriteRequest(Utf8JsonWriter writer, IReadOnlyList<SqlStatement> statements)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("batch");
        foreach (var statement in statements)
        {
            writer.WriteStartObject();
            writer.WriteString("sql", statement.Sql);
            if (statement.Named is not null)
            {
                writer.WriteStartObject("params");
                foreach (var (k, v) in statement.Named)
                {
                    writer.WritePropertyName(k);
                    WriteValue(writer, v);
                }
                writer.WriteEndObject();
            }
            else if (statement.Positional is not null)
            {
                writer.WriteStartArray("params");
                foreach (var v in statement.Positional) WriteValue(writer, v);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads a response body written by <see cref="WriteResult"/>.</summary>
    public static QueryResult ReadResult(JsonElement body)
    {
        var results = new List<StatementResult>();
        foreach (var r in body.GetProperty("results").EnumerateArray())
        {
            var meta = r.GetProperty("meta");
            results.Add(new StatementResult
            {
                Columns = [.. r.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!)],
                Rows = [.. r.GetProperty("rows").EnumerateArray().Select(row => row.EnumerateArray().Select(v => ParseValue(v, "row")).ToArray())],
                RowsRead = meta.GetProperty("rows_read").GetInt64(),
                RowsWritten = meta.GetProperty("rows_written").GetInt64(),
                LastRowId = meta.GetProperty("last_row_id").GetInt64(),
            });
        }
        var overall = body.GetProperty("meta");
        Bookmark.TryParse(body.GetProperty("bookmark").GetString(), out long position);
        return new QueryResult
        {
            Results = results,
            Position = position,
            ServedBy = overall.GetProperty("served_by").GetString()!,
            DurationMs = overall.GetProperty("duration").GetDouble(),
        };
    }

    public static void WriteError(Utf8JsonWriter writer, string code, string message)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static DatabaseException Bad(string message) => new(DatabaseErrorKind.BadRequest, message, "bad_request");
}
