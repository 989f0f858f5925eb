using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Database.Http;

/// <summary>
/// Request bodies of the HTTP API. The management API's are one object whose fields are read by type, so a value of
/// the wrong type or out of range is a 400 naming the field and the value sent, never an exception from the JSON reader.
/// </summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadAsync(HttpContext http)
    {
        // Read whole first: the text check needs the bytes, and the document keeps them.
        var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        var bytes = body.GetBuffer().AsMemory(0, (int)body.Length);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The body is not valid JSON: {e.Message}", "bad_json");
        }
        // The parser decodes strings only when they are read: one that is not text would fail wherever it is read.
        if (JsonText.FirstProblem(bytes.Span) is { } problem)
        {
            doc.Dispose();
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The body holds a string that is not text {problem}.", "bad_text");
        }
        return doc;
    }

    /// <summary>The body as a JSON object; <paramref name="example"/> shows a valid one in the refusal.</summary>
    public static async Task<JsonDocument> ReadObjectAsync(HttpContext http, string example)
    {
        var body = await ReadAsync(http);
        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            string got = Shown(body.RootElement);
            body.Dispose();
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The body must be a JSON object such as {example} (got {got}).", "bad_request");
        }
        return body;
    }

    /// <summary>A string field, or null when absent or null.</summary>
    public static string? String(JsonElement body, string field) =>
        !body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Bad(field, "a string", value);

    /// <summary>A whole-number field in [min, max], or null when absent or null.</summary>
    public static int? Int32(JsonElement body, string field, int min, int max) =>
        !body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= min && n <= max ? n
        : throw Bad(field, $"a whole number from {min} to {max}", value);

    private static DatabaseException Bad(string field, string expected, JsonElement value) =>
        new(DatabaseErrorKind.BadRequest, $"\"{field}\" must be {expected} (got {Shown(value)}).", $"bad_{field}");

    /// <summary>The value as sent, shortened: the refusal names it without echoing a huge body.</summary>
    private static string Shown(JsonElement value)
    {
        string raw = value.GetRawText();
        return raw.Length <= 100 ? raw : raw[..100] + "...";
    }
}
