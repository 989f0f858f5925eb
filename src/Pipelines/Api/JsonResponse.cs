using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using DataPlane.Http;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.Api;

/// <summary>Writes JSON answers with Utf8JsonWriter: the shapes are the API's contract, spelled out where they are written.
/// Public for the other areas that add endpoints to the management API (<see cref="PipelinesEndpointRouteBuilderExtensions.MapManagementApi"/>),
/// so every <c>/api/v1</c> answer and body limit is this one.</summary>
public static class JsonResponse
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

    /// <summary>400 for SQL that does not compile: the message (with the line, a caret under the spot and what was
    /// expected), and the 1-based <c>line</c> and <c>column</c> for tools that mark the spot.</summary>
    public static Task SqlErrorAsync(HttpResponse response, SqlTransforms.Diagnostics.SqlException e) =>
        WriteAsync(response, StatusCodes.Status400BadRequest, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", e.Message);
            w.WriteNumber("line", e.Line);
            w.WriteNumber("column", e.Column);
            w.WriteEndObject();
        });

    /// <summary>The largest management request body (a definition): far more than any stream, sink or pipeline needs,
    /// and it bounds what reading one costs.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Reads a small management request body as JSON; null (and the 4xx written) when it is too large or not JSON.</summary>
    public static async Task<JsonDocument?> ReadAsync(HttpContext context)
    {
        byte[] buffer;
        int length;
        try
        {
            (buffer, length) = await RequestBody.ReadAsync(context.Request, MaxBodyBytes, context.RequestAborted, "definitions are small");
        }
        catch (RequestBodyTooLargeException e)
        {
            await ErrorAsync(context.Response, StatusCodes.Status413PayloadTooLarge, e.Message);
            return null;
        }
        catch (UnsupportedEncodingException e)
        {
            await ErrorAsync(context.Response, StatusCodes.Status415UnsupportedMediaType, e.Message);
            return null;
        }
        catch (MalformedBodyException e)
        {
            await ErrorAsync(context.Response, StatusCodes.Status400BadRequest, e.Message);
            return null;
        }
        try
        {
            // Definitions' strings are decoded as they are read, which throws on one that is not text.
            if (JsonText.FirstProblem(buffer.AsSpan(0, length)) is { } problem)
            {
                await ErrorAsync(context.Response, StatusCodes.Status400BadRequest, $"The body holds a string that is not text {problem}.");
                return null;
            }
            // The document keeps the bytes it parsed: its own copy, as the buffer goes back to the pool.
            return JsonDocument.Parse(buffer.AsSpan(0, length).ToArray());
        }
        catch (JsonException e)
        {
            await ErrorAsync(context.Response, StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
