using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DataPlane.Catalog.Tests.Rest.OpenApi;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>
/// Raw HTTP against the catalog, checking every response: the expected status, and the body against the
/// OpenAPI component schema the spec gives for it (errors against <c>IcebergErrorResponse</c>).
/// </summary>
internal sealed class CatalogHttp(RestCatalogServer server, string? bearer = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = server.BaseUri };

    public string? Bearer { get; set; } = bearer;

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body, HttpStatusCode expected, string? schema, Dictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (Bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Bearer);
        foreach (var (k, v) in headers ?? []) request.Headers.Add(k, v);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        if (method == HttpMethod.Head || response.StatusCode == HttpStatusCode.NoContent)
        {
            Assert.Equal("", text);
            return default;
        }
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement.Clone();
        var schemaName = (int)response.StatusCode >= 400 ? "IcebergErrorResponse" : schema;
        if (schemaName is not null)
        {
            var errors = OpenApiSchemas.Iceberg.Validate(root, schemaName);
            Assert.True(errors.Count == 0, $"{method} {path}: response does not match {schemaName}:\n{string.Join("\n", errors)}\n{text}");
        }
        if ((int)response.StatusCode >= 400)
            Assert.Equal((int)response.StatusCode, root.GetProperty("error").GetProperty("code").GetInt32());
        return root;
    }

    public Task<JsonElement> GetAsync(string path, string schema, HttpStatusCode expected = HttpStatusCode.OK) =>
        SendAsync(HttpMethod.Get, path, null, expected, schema);

    public Task<JsonElement> PostAsync(string path, object body, string? schema, HttpStatusCode expected = HttpStatusCode.OK) =>
        SendAsync(HttpMethod.Post, path, body as string ?? JsonSerializer.Serialize(body), expected, schema);

    /// <summary>Asserts an error response: its code, its exception type, and that the message contains <paramref name="mentions"/>.</summary>
    public static void AssertError(JsonElement response, string type, string? mentions = null)
    {
        var error = response.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        if (mentions is not null) Assert.Contains(mentions, error.GetProperty("message").GetString());
    }

    public HttpClient Raw => _http;

    public void Dispose() => _http.Dispose();
}
