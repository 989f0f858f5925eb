using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DataPlane.Database.Execution;
using DataPlane.Database.Sessions;

namespace DataPlane.Database.Http;

/// <summary>
/// A client of one server's database API. It keeps a session per instance: every response's
/// bookmark is sent back with the next request, unless a session is named explicitly.
/// </summary>
public sealed class DatabaseClient(HttpClient http, string? token = null)
{
    public HttpClient Http { get; } = http;

    /// <summary>The session's last bookmark ("first-unconstrained" or "first-primary" before any response).</summary>
    public string Session { get; set; } = SessionConstraint.FirstUnconstrained;

    public async Task<QueryResult> QueryAsync(string database, string sql, params object?[] parameters) =>
        await QueryAsync(database, [new SqlStatement(sql, parameters.Length == 0 ? null : parameters)]);

    public async Task<QueryResult> QueryAsync(string database, IReadOnlyList<SqlStatement> statements, string? session = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"db/{Uri.EscapeDataString(database)}/query")
        {
            Content = JsonBody(writer => QueryJson.WriteRequest(writer, statements)),
        };
        request.Headers.TryAddWithoutValidation(Bookmark.HeaderName, session ?? Session);
        Authorize(request, token);
        using var response = await Http.SendAsync(request, cancellationToken);
        using var body = await ReadJsonAsync(response, cancellationToken);
        if (session is null && body.RootElement.TryGetProperty("bookmark", out var b) && b.GetString() is { } bookmark && !string.IsNullOrEmpty(bookmark))
            Session = bookmark;
        ThrowIfError(response, body.RootElement);
        var result = QueryJson.ReadResult(body.RootElement);
        if (session is null) Session = Bookmark.Format(result.Position);
        return result;
    }

    internal static HttpContent JsonBody(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    internal static void Authorize(HttpRequestMessage request, string? token)
    {
        if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    internal static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
        }
        catch (JsonException)
        {
            throw new DatabaseException(KindOf(response.StatusCode), $"HTTP {(int)response.StatusCode}: {text}", "http_error");
        }
    }

    internal static void ThrowIfError(HttpResponseMessage response, JsonElement body)
    {
        if (response.IsSuccessStatusCode) return;
        string code = "http_error", message = $"HTTP {(int)response.StatusCode}";
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var error))
        {
            code = error.GetProperty("code").GetString() ?? code;
            message = error.GetProperty("message").GetString() ?? message;
        }
        throw new DatabaseException(KindOf(response.StatusCode), message, code);
    }

    internal static DatabaseErrorKind KindOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Forbidden => DatabaseErrorKind.Forbidden,
        HttpStatusCode.NotFound => DatabaseErrorKind.NotFound,
        HttpStatusCode.Conflict => DatabaseErrorKind.Conflict,
        HttpStatusCode.Unauthorized => DatabaseErrorKind.Unauthorized,
        HttpStatusCode.BadRequest => DatabaseErrorKind.BadRequest,
        HttpStatusCode.RequestTimeout => DatabaseErrorKind.Timeout,
        _ => DatabaseErrorKind.Unavailable,
    };
}
