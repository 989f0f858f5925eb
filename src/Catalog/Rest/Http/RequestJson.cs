using System.Buffers;
using System.Text.Json;
using DataPlane.Catalog.Store;
using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Catalog.Rest.Http;

/// <summary>
/// Strict readers for request bodies: malformed JSON, unknown fields and mistyped values are 400s whose message
/// names the request type and the field, so a client author sees at once what to fix.
/// </summary>
internal static class RequestJson
{
    /// <summary>Bodies above this are refused; the largest legitimate one (a commit with a schema) is far smaller.</summary>
    private const int MaxBodyBytes = 16 << 20;

    public static async Task<JsonDocument> ReadAsync(HttpContext context, string requestType)
    {
        // The body is read whole first: the text check needs its bytes, and the document keeps them (its own copy, as the
        // buffer goes back to the pool). Content-Encoding is not the catalog's: its clients send plain JSON.
        ReadOnlyMemory<byte> bytes;
        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = await RequestBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted, gzip: false);
        }
        catch (RequestBodyTooLargeException)
        {
            throw TooLarge(requestType, context.Request.ContentLength is { } declared ? $"of {declared} bytes" : "sent without a length");
        }
        try
        {
            bytes = buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw RestException.BadRequest($"Malformed JSON in {requestType} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
        if (doc.RootElement.ValueKind is var kind && kind != JsonValueKind.Object)
        {
            doc.Dispose(); // the kind is read first: a disposed document cannot say what it held
            throw RestException.BadRequest($"{requestType} must be a JSON object, got {kind}.");
        }
        // The parser checks structure but decodes strings only when they are read: one that is not text would fail
        // wherever a handler reads it.
        if (JsonText.FirstProblem(bytes.Span) is { } problem)
        {
            doc.Dispose();
            throw RestException.BadRequest($"{requestType} holds a string that is not text {problem}.");
        }
        return doc;
    }

    private static RestException TooLarge(string requestType, string size) =>
        RestException.TooLarge($"{requestType} body {size} is above the limit of {MaxBodyBytes} bytes ({MaxBodyBytes >> 20} MiB).");

    /// <summary>Refuses fields the request type does not define.</summary>
    public static void OnlyFields(JsonElement o, string requestType, params string[] known)
    {
        foreach (var p in o.EnumerateObject())
            if (Array.IndexOf(known, p.Name) < 0)
                throw RestException.BadRequest($"Unknown field '{p.Name}' in {requestType}; valid fields are: {string.Join(", ", known)}.");
    }

    public static JsonElement Required(JsonElement o, string requestType, string field) =>
        o.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw RestException.BadRequest($"Missing required field '{field}' in {requestType}.");

    public static string RequiredString(JsonElement o, string requestType, string field)
    {
        var v = Required(o, requestType, field);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Mistyped(requestType, field, "a string", v);
    }

    public static string? OptionalString(JsonElement o, string requestType, string field)
    {
        if (!o.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Mistyped(requestType, field, "a string", v);
    }

    public static bool OptionalBool(JsonElement o, string requestType, string field)
    {
        if (!o.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return false;
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Mistyped(requestType, field, "a boolean", v);
    }

    public static Namespace RequiredNamespace(JsonElement o, string requestType, string field) =>
        ReadNamespace(Required(o, requestType, field), requestType, field);

    public static Namespace ReadNamespace(JsonElement v, string requestType, string field)
    {
        if (v.ValueKind != JsonValueKind.Array)
            throw Mistyped(requestType, field, "an array of strings", v);
        var levels = new List<string>();
        foreach (var level in v.EnumerateArray())
            levels.Add(level.ValueKind == JsonValueKind.String ? level.GetString()! : throw Mistyped(requestType, field, "an array of strings", v));
        return new Namespace(levels);
    }

    /// <summary>Reads a <c>TableIdentifier</c> object: <c>{"namespace": [...], "name": "..."}</c>.</summary>
    public static (Namespace Namespace, string Name) RequiredIdentifier(JsonElement o, string requestType, string field)
    {
        var v = Required(o, requestType, field);
        if (v.ValueKind != JsonValueKind.Object)
            throw Mistyped(requestType, field, "a TableIdentifier object", v);
        var type = $"{requestType}.{field}";
        OnlyFields(v, type, "namespace", "name");
        return (RequiredNamespace(v, type, "namespace"), RequiredString(v, type, "name"));
    }

    public static Dictionary<string, string> StringMap(JsonElement o, string requestType, string field)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!o.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return map;
        if (v.ValueKind != JsonValueKind.Object)
            throw Mistyped(requestType, field, "an object of string values", v);
        foreach (var p in v.EnumerateObject())
            map[p.Name] = p.Value.ValueKind == JsonValueKind.String
                ? p.Value.GetString()!
                : throw RestException.BadRequest($"Field '{field}.{p.Name}' in {requestType} must be a string, got {p.Value.ValueKind}.");
        return map;
    }

    public static List<string> StringList(JsonElement o, string requestType, string field)
    {
        var list = new List<string>();
        if (!o.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return list;
        if (v.ValueKind != JsonValueKind.Array)
            throw Mistyped(requestType, field, "an array of strings", v);
        foreach (var x in v.EnumerateArray())
            list.Add(x.ValueKind == JsonValueKind.String ? x.GetString()! : throw Mistyped(requestType, field, "an array of strings", v));
        return list;
    }

    public static RestException Mistyped(string requestType, string field, string expected, JsonElement v) =>
        RestException.BadRequest($"Field '{field}' in {requestType} must be {expected}, got {v.ValueKind}: {Abbreviate(v.GetRawText())}");

    private static string Abbreviate(string s) => s.Length <= 120 ? s : s[..120] + "...";
}
