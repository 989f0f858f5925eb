using System.Net;
using System.Text.Json.Nodes;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class ViewEndpointTests : IAsyncLifetime
{
    private RestCatalogServer _server = null!;
    private CatalogHttp _http = null!;

    public async Task InitializeAsync()
    {
        _server = await RestCatalogServer.StartAsync();
        _http = new CatalogHttp(_server);
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "db" } }, "CreateNamespaceResponse");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static JsonObject Version(string sql) => new()
    {
        ["version-id"] = 1,
        ["timestamp-ms"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        ["schema-id"] = 0,
        ["summary"] = new JsonObject { ["engine-name"] = "tests" },
        ["representations"] = new JsonArray(new JsonObject { ["type"] = "sql", ["sql"] = sql, ["dialect"] = "spark" }),
        ["default-namespace"] = new JsonArray("db"),
    };

    [Fact]
    public async Task A_view_is_created_loaded_replaced_renamed_and_dropped()
    {
        var create = new JsonObject
        {
            ["name"] = "recent",
            ["schema"] = TableRequests.Schema(),
            ["view-version"] = Version("SELECT * FROM db.events WHERE ts > now() - interval 1 day"),
            ["properties"] = new JsonObject { ["comment"] = "last day" },
        };
        var created = await _http.PostAsync("v1/namespaces/db/views", create.ToJsonString(), "LoadViewResult");
        var metadata = created.GetProperty("metadata");
        Assert.Equal(1, metadata.GetProperty("current-version-id").GetInt32());
        Assert.Equal(1, metadata.GetProperty("format-version").GetInt32());

        var list = await _http.GetAsync("v1/namespaces/db/views", "ListTablesResponse");
        Assert.Equal("recent", list.GetProperty("identifiers")[0].GetProperty("name").GetString());
        await _http.SendAsync(HttpMethod.Head, "v1/namespaces/db/views/recent", null, HttpStatusCode.NoContent, null);
        var taken = await _http.PostAsync("v1/namespaces/db/tables", TableRequests.Create("recent"), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(taken, "AlreadyExistsException", "db.recent");

        var replace = new JsonObject
        {
            ["requirements"] = new JsonArray(new JsonObject { ["type"] = "assert-view-uuid", ["uuid"] = metadata.GetProperty("view-uuid").GetString() }),
            ["updates"] = new JsonArray(
                new JsonObject { ["action"] = "add-view-version", ["view-version"] = Version("SELECT id FROM db.events").Also(v => v["schema-id"] = 0) },
                new JsonObject { ["action"] = "set-current-view-version", ["view-version-id"] = -1 }),
        };
        var replaced = await _http.PostAsync("v1/namespaces/db/views/recent", replace.ToJsonString(), "LoadViewResult");
        var m = replaced.GetProperty("metadata");
        Assert.Equal(2, m.GetProperty("current-version-id").GetInt32());
        Assert.Equal(2, m.GetProperty("versions").GetArrayLength());
        Assert.Equal(2, m.GetProperty("version-log").GetArrayLength());

        var stale = new JsonObject
        {
            ["requirements"] = new JsonArray(new JsonObject { ["type"] = "assert-view-uuid", ["uuid"] = Guid.NewGuid().ToString() }),
            ["updates"] = new JsonArray(),
        };
        var failed = await _http.PostAsync("v1/namespaces/db/views/recent", stale.ToJsonString(), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(failed, "CommitFailedException", "view uuid");

        await _http.PostAsync("v1/views/rename", new { source = new { @namespace = new[] { "db" }, name = "recent" }, destination = new { @namespace = new[] { "db" }, name = "last_day" } }, null, HttpStatusCode.NoContent);
        var loaded = await _http.GetAsync("v1/namespaces/db/views/last_day", "LoadViewResult");
        Assert.Equal(replaced.GetProperty("metadata-location").GetString(), loaded.GetProperty("metadata-location").GetString());
        var gone = await _http.GetAsync("v1/namespaces/db/views/recent", "LoadViewResult", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(gone, "NoSuchViewException", "db.recent");
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/views/last_day", null, HttpStatusCode.NoContent, null);
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/views/last_day", null, HttpStatusCode.NotFound, null);
    }
}
