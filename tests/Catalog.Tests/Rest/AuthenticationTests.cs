using System.Net;
using System.Text.Json;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.Tests.Rest.OpenApi;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class AuthenticationTests : IAsyncLifetime
{
    private RestCatalogServer _server = null!;
    private CatalogHttp _http = null!;

    public async Task InitializeAsync()
    {
        _server = await RestCatalogServer.StartAsync(folder => new RestCatalogOptions
        {
            WarehouseLocation = Path.Combine(folder, "warehouse"),
            DatabasePath = Path.Combine(folder, "catalog.db"),
            Tokens = [new RestCatalogToken("admin-token"), new RestCatalogToken("reader-token", ReadOnly: true)],
            Clients = [new RestCatalogClient("spark", "s3cret"), new RestCatalogClient("bi", "view-only", ReadOnly: true)],
        });
        _http = new CatalogHttp(_server);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Without_a_token_every_catalog_route_is_401_and_a_wrong_token_too()
    {
        var none = await _http.GetAsync("v1/config", "CatalogConfig", HttpStatusCode.Unauthorized);
        CatalogHttp.AssertError(none, "NotAuthorizedException", "Bearer");
        _http.Bearer = "guess";
        var wrong = await _http.GetAsync("v1/namespaces", "ListNamespacesResponse", HttpStatusCode.Unauthorized);
        CatalogHttp.AssertError(wrong, "NotAuthorizedException");
    }

    [Fact]
    public async Task A_read_only_token_reads_but_is_refused_writes_with_403()
    {
        _http.Bearer = "admin-token";
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "db" } }, "CreateNamespaceResponse");
        _http.Bearer = "reader-token";
        await _http.GetAsync("v1/namespaces/db", "GetNamespaceResponse");
        var refused = await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "other" } }, null, HttpStatusCode.Forbidden);
        CatalogHttp.AssertError(refused, "ForbiddenException", "read-only");
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db", null, HttpStatusCode.Forbidden, null);
    }

    [Fact]
    public async Task Client_credentials_get_a_bearer_token_that_carries_the_clients_rights()
    {
        var writer = await RequestTokenAsync("spark", "s3cret", HttpStatusCode.OK);
        Assert.Equal("bearer", writer.GetProperty("token_type").GetString());
        _http.Bearer = writer.GetProperty("access_token").GetString();
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "fromspark" } }, "CreateNamespaceResponse");

        _http.Bearer = (await RequestTokenAsync("bi", "view-only", HttpStatusCode.OK)).GetProperty("access_token").GetString();
        await _http.GetAsync("v1/namespaces/fromspark", "GetNamespaceResponse");
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "frombi" } }, null, HttpStatusCode.Forbidden);

        var bad = await RequestTokenAsync("spark", "wrong", HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_client", bad.GetProperty("error").GetString());
        Assert.Empty(OpenApiSchemas.Iceberg.Validate(bad, "OAuthError"));
    }

    [Fact]
    public async Task A_token_request_whose_form_cannot_be_read_gets_400_in_oauths_shape()
    {
        foreach (var (form, type) in new[]
        {
            ("client_secret=" + new string('s', 5 << 20), "application/x-www-form-urlencoded"),
            (string.Join('&', Enumerable.Range(0, 2000).Select(i => $"k{i}=v")), "application/x-www-form-urlencoded"),
            // A multipart form whose body never reaches its boundary.
            ("grant_type=client_credentials&client_id=spark", "multipart/form-data; boundary=x"),
        })
        {
            var content = new StringContent(form, System.Text.Encoding.UTF8);
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
            using var response = await _http.Raw.PostAsync("v1/oauth/tokens", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
            var body = JsonDocument.Parse(text).RootElement;
            Assert.Equal("invalid_request", body.GetProperty("error").GetString());
            Assert.Empty(OpenApiSchemas.Iceberg.Validate(body, "OAuthError"));
        }
    }

    private async Task<JsonElement> RequestTokenAsync(string id, string secret, HttpStatusCode expected)
    {
        using var response = await _http.Raw.PostAsync("v1/oauth/tokens", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = id, ["client_secret"] = secret, ["scope"] = "catalog",
        }));
        Assert.Equal(expected, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        if (expected == HttpStatusCode.OK)
            Assert.Empty(OpenApiSchemas.Iceberg.Validate(body, "OAuthTokenResponse"));
        return body;
    }
}
