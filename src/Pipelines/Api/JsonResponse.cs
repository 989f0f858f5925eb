using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>Writes JSON answers with Utf8JsonWriter: the shapes are the API's contract, spelled out where they are written.</summary>
internal static class JsonResponse
{
    /// <summary>Answers are application/json, never embedded in HTML: SQL keeps its '&lt;' and '&gt;' readable.</summary>
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, int status, Action<Utf8JsonWriter> write)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(response.BodyWriter, Options))
            write(w);
        await response.BodyWriter.FlushAsync();
    }

    /// <summary>200 with <c>{"property": [item, ...]}</c>: the shape of every list in the management API.</summary>
    public static Task WriteListAsync<T>(HttpResponse response, string property, IEnumerable<T> items, Action<Utf8JsonWriter, T> write) =>
        WriteAsync(response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray(property);
            foreach (var item in items)
                write(w, item);
            w.WriteEndArray();
            w.WriteEndObject();
        });

    /// <summary>200 with the item, or 404 naming the kind of thing and the name that was not found.</summary>
    public static Task WriteFoundAsync<T>(HttpResponse response, T? item, string kind, string name, Action<Utf8JsonWriter, T> write) where T : class =>
        item is null
            ? NotFoundAsync(response, kind, name)
            : WriteAsync(response, StatusCodes.Status200OK, w => write(w, item));

    public static Task NotFoundAsync(HttpResponse response, string kind, string name) =>
        ErrorAsync(response, StatusCodes.Status404NotFound, $"No {kind} named '{name}'.");

    public static Task ErrorAsync(HttpResponse response, int status, string message) =>
        WriteAsync(response, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    /// <summary>Reads a small management request body as JSON; null (and a 400 written) when it is not JSON.</summary>
    public static async Task<JsonDocument?> ReadAsync(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await ErrorAsync(context.Response, StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
            return null;
        }
    }
}
