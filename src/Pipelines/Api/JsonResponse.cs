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
