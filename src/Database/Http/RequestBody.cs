using System.Text.Json;
using DataPlane.Database.Execution;
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
        try
        {
            return await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new DatabaseException(DatabaseErrorKind.BadRequest, $"The body is not valid JSON: {e.Message}", "bad_json");
        }
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
        : value.ValueKind == JsonValueKind.String ? Text(value, $"\"{field}\"")
        : throw Bad(field, "a string", value);

    /// <summary>A JSON string's text; an escape that is no text (a lone UTF-16 surrogate such as \ud800) is a 400 naming where.</summary>
    public static string Text(JsonElement value, string where)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw LoneSurrogate(where, value.GetRawText());
        }
    }

    /// <summary>A property's name, with the same check as <see cref="Text"/>.</summary>
    public static string Name(JsonProperty property, string where)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw LoneSurrogate($"a key of {where}", "");
        }
    }

    private static DatabaseException LoneSurrogate(string where, string raw) =>
        new(DatabaseErrorKind.BadRequest,
            $"{where} holds an escape that is no text: a lone UTF-16 surrogate such as \\ud800{(raw.Length is > 0 and <= 100 ? $" (got {raw})" : "")}.", "bad_escape");

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
