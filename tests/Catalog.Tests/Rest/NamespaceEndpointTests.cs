using System.Net;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class NamespaceEndpointTests : IAsyncLifetime
{
    private RestCatalogServer _server = null!;
    private CatalogHttp _http = null!;

    public async Task InitializeAsync()
    {
        _server = await RestCatalogServer.StartAsync();
        _http = new CatalogHttp(_server);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Config_has_defaults_overrides_and_the_endpoints_served()
    {
        var config = await _http.GetAsync("v1/config", "CatalogConfig");
        Assert.Equal(new Uri(Path.Combine(_server.Folder, "warehouse") + "/").ToString().TrimEnd('/'), config.GetProperty("defaults").GetProperty("warehouse").GetString());
        var endpoints = config.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("POST /v1/{prefix}/namespaces", endpoints);
        Assert.Contains("HEAD /v1/{prefix}/namespaces/{namespace}", endpoints);

        var named = await _http.GetAsync("v1/config?warehouse=dataplane", "CatalogConfig");
        Assert.Equal("dataplane", named.GetProperty("overrides").GetProperty("prefix").GetString());
        var unknown = await _http.GetAsync("v1/config?warehouse=elsewhere", "CatalogConfig", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(unknown, "NoSuchWarehouseException", "elsewhere");
    }

    [Fact]
    public async Task Nested_namespaces_are_created_listed_by_parent_loaded_and_dropped_when_empty()
    {
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "accounting" }, properties = new Dictionary<string, string> { ["owner"] = "hank" } }, "CreateNamespaceResponse");
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "accounting", "tax" } }, "CreateNamespaceResponse");
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "accounting", "tax", "paid" } }, "CreateNamespaceResponse");
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "sales" } }, "CreateNamespaceResponse");

        var top = await _http.GetAsync("v1/namespaces", "ListNamespacesResponse");
        Assert.Equal(["accounting", "sales"], top.GetProperty("namespaces").EnumerateArray().Select(n => string.Join('.', n.EnumerateArray().Select(l => l.GetString()))));
        Assert.False(top.TryGetProperty("next-page-token", out _));
        var children = await _http.GetAsync("v1/namespaces?parent=accounting%1Ftax", "ListNamespacesResponse");
        Assert.Equal("accounting.tax.paid", string.Join('.', children.GetProperty("namespaces")[0].EnumerateArray().Select(l => l.GetString())));

        var loaded = await _http.GetAsync("v1/namespaces/accounting", "GetNamespaceResponse");
        Assert.Equal("hank", loaded.GetProperty("properties").GetProperty("owner").GetString());
        await _http.SendAsync(HttpMethod.Head, "v1/namespaces/accounting%1Ftax", null, HttpStatusCode.NoContent, null);
        await _http.SendAsync(HttpMethod.Head, "v1/namespaces/nope", null, HttpStatusCode.NotFound, null);

        var notEmpty = await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/accounting%1Ftax", null, HttpStatusCode.Conflict, null);
        CatalogHttp.AssertError(notEmpty, "NamespaceNotEmptyException", "accounting.tax");
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/accounting%1Ftax%1Fpaid", null, HttpStatusCode.NoContent, null);
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/accounting%1Ftax", null, HttpStatusCode.NoContent, null);
        var gone = await _http.GetAsync("v1/namespaces/accounting%1Ftax", "GetNamespaceResponse", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(gone, "NoSuchNamespaceException", "accounting.tax");
    }

    [Fact]
    public async Task Creating_twice_or_under_a_missing_parent_fails_with_the_spec_errors()
    {
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "a" } }, "CreateNamespaceResponse");
        var twice = await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "a" } }, null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(twice, "AlreadyExistsException", "a");
        var orphan = await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "x", "y" } }, null, HttpStatusCode.NotFound);
        CatalogHttp.AssertError(orphan, "NoSuchNamespaceException", "x");
        var missingParent = await _http.GetAsync("v1/namespaces?parent=x", "ListNamespacesResponse", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(missingParent, "NoSuchNamespaceException");
    }

    [Fact]
    public async Task Bad_json_unknown_fields_and_wrong_types_are_400_naming_the_field()
    {
        var malformed = await _http.PostAsync("v1/namespaces", "{\"namespace\": [\"a\"", null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(malformed, "BadRequestException", "Malformed JSON in CreateNamespaceRequest");
        var unknown = await _http.PostAsync("v1/namespaces", "{\"namespace\": [\"a\"], \"propertys\": {}}", null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(unknown, "BadRequestException", "'propertys'");
        var mistyped = await _http.PostAsync("v1/namespaces", "{\"namespace\": \"a\"}", null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(mistyped, "BadRequestException", "'namespace'");
        var badValue = await _http.PostAsync("v1/namespaces", "{\"namespace\": [\"a\"], \"properties\": {\"n\": 1}}", null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(badValue, "BadRequestException", "properties.n");
        var badPageSize = await _http.GetAsync("v1/namespaces?pageSize=0", "ListNamespacesResponse", HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(badPageSize, "BadRequestException", "pageSize");
    }

    [Fact]
    public async Task Properties_are_updated_and_removed_with_missing_keys_reported()
    {
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "p" }, properties = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } }, "CreateNamespaceResponse");
        var result = await _http.PostAsync("v1/namespaces/p/properties", new { removals = new[] { "a", "zz" }, updates = new Dictionary<string, string> { ["c"] = "3" } }, "UpdateNamespacePropertiesResponse");
        Assert.Equal(["c"], result.GetProperty("updated").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["a"], result.GetProperty("removed").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["zz"], result.GetProperty("missing").EnumerateArray().Select(x => x.GetString()));
        var loaded = await _http.GetAsync("v1/namespaces/p", "GetNamespaceResponse");
        Assert.Equal(new Dictionary<string, string> { ["b"] = "2", ["c"] = "3" },
            loaded.GetProperty("properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
        var both = await _http.PostAsync("v1/namespaces/p/properties", new { removals = new[] { "b" }, updates = new Dictionary<string, string> { ["b"] = "x" } }, null, (HttpStatusCode)422);
        CatalogHttp.AssertError(both, "UnprocessableEntityException", "b");
    }

    [Fact]
    public async Task Listing_pages_through_every_namespace_once_with_a_null_token_at_the_end()
    {
        for (var i = 0; i < 7; i++)
            await _http.PostAsync("v1/namespaces", new { @namespace = new[] { $"ns{i}" } }, "CreateNamespaceResponse");
        var seen = new List<string>();
        var token = "";
        var pages = 0;
        while (true)
        {
            var page = await _http.GetAsync($"v1/namespaces?pageSize=3&pageToken={Uri.EscapeDataString(token)}", "ListNamespacesResponse");
            pages++;
            seen.AddRange(page.GetProperty("namespaces").EnumerateArray().Select(n => n[0].GetString()!));
            var next = page.GetProperty("next-page-token");
            if (next.ValueKind == System.Text.Json.JsonValueKind.Null) break;
            token = next.GetString()!;
        }
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"ns{i}"), seen);
    }

    [Fact]
    public async Task A_page_size_without_a_token_starts_at_the_first_page()
    {
        for (var i = 0; i < 4; i++)
            await _http.PostAsync("v1/namespaces", new { @namespace = new[] { $"ns{i}" } }, "CreateNamespaceResponse");
        var first = await _http.GetAsync("v1/namespaces?pageSize=3", "ListNamespacesResponse");
        Assert.Equal(["ns0", "ns1", "ns2"], first.GetProperty("namespaces").EnumerateArray().Select(n => n[0].GetString()!));
        var rest = await _http.GetAsync($"v1/namespaces?pageSize=3&pageToken={Uri.EscapeDataString(first.GetProperty("next-page-token").GetString()!)}", "ListNamespacesResponse");
        Assert.Equal(["ns3"], rest.GetProperty("namespaces").EnumerateArray().Select(n => n[0].GetString()!));
    }

    [Fact]
    public async Task The_prefix_route_serves_the_same_catalog_and_unknown_prefixes_are_404()
    {
        await _http.PostAsync("v1/dataplane/namespaces", new { @namespace = new[] { "viaprefix" } }, "CreateNamespaceResponse");
        await _http.GetAsync("v1/namespaces/viaprefix", "GetNamespaceResponse");
        var wrong = await _http.GetAsync("v1/other/namespaces", "ListNamespacesResponse", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(wrong, "NoSuchWarehouseException", "other");
        var unknownRoute = await _http.GetAsync("v1/nothing/here/at/all/x", "ListNamespacesResponse", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(unknownRoute, "NotFoundException");
    }
}
