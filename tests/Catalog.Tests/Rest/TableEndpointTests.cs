using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;
using static DataPlane.Catalog.Tests.Rest.TableRequests;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class TableEndpointTests : IAsyncLifetime
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

    [Fact]
    public async Task A_created_table_is_listed_loaded_and_its_metadata_file_is_in_the_local_warehouse()
    {
        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("events"), "LoadTableResult");
        var metadataLocation = created.GetProperty("metadata-location").GetString()!;
        Assert.StartsWith(new Uri(Path.Combine(_server.Folder, "warehouse", "db", "events", "metadata") + "/").ToString(), metadataLocation);
        Assert.True(File.Exists(new Uri(metadataLocation).LocalPath));
        var metadata = created.GetProperty("metadata");
        Assert.Equal(2, metadata.GetProperty("format-version").GetInt32());
        Assert.Equal(3, metadata.GetProperty("last-column-id").GetInt32());
        Assert.Equal(1000, metadata.GetProperty("last-partition-id").GetInt32());
        Assert.Equal("tests", metadata.GetProperty("properties").GetProperty("owner").GetString());

        var list = await _http.GetAsync("v1/namespaces/db/tables", "ListTablesResponse");
        Assert.Equal("events", list.GetProperty("identifiers")[0].GetProperty("name").GetString());
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/events", "LoadTableResult");
        Assert.Equal(metadataLocation, loaded.GetProperty("metadata-location").GetString());
        Assert.Equal(metadata.GetProperty("table-uuid").GetString(), loaded.GetProperty("metadata").GetProperty("table-uuid").GetString());
        await _http.SendAsync(HttpMethod.Head, "v1/namespaces/db/tables/events", null, HttpStatusCode.NoContent, null);

        var again = await _http.PostAsync("v1/namespaces/db/tables", Create("events"), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(again, "AlreadyExistsException", "db.events");
        var missing = await _http.GetAsync("v1/namespaces/db/tables/nope", "LoadTableResult", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(missing, "NoSuchTableException", "db.nope");
        var noNamespace = await _http.GetAsync("v1/namespaces/zz/tables/nope", "LoadTableResult", HttpStatusCode.NotFound);
        CatalogHttp.AssertError(noNamespace, "NoSuchNamespaceException", "zz");
        var unknownField = await _http.PostAsync("v1/namespaces/db/tables", "{\"name\":\"t\",\"schema\":{\"type\":\"struct\",\"fields\":[]},\"sortorder\":{}}", null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(unknownField, "BadRequestException", "'sortorder'");
    }

    [Fact]
    public async Task Appends_commit_in_order_and_a_stale_commit_fails_with_409_naming_the_branch()
    {
        await _http.PostAsync("v1/namespaces/db/tables", Create("t"), "LoadTableResult");
        var first = await _http.PostAsync("v1/namespaces/db/tables/t", Append(_server.Catalog.WarehouseUri, 101, null, 1, "a.parquet"), "CommitTableResponse");
        Assert.Equal(101, first.GetProperty("metadata").GetProperty("current-snapshot-id").GetInt64());
        var second = await _http.PostAsync("v1/namespaces/db/tables/t", Append(_server.Catalog.WarehouseUri, 102, 101, 2, "b.parquet"), "CommitTableResponse");
        var metadata = second.GetProperty("metadata");
        Assert.Equal(102, metadata.GetProperty("current-snapshot-id").GetInt64());
        Assert.Equal(2, metadata.GetProperty("last-sequence-number").GetInt64());
        Assert.Equal([101L, 102L], metadata.GetProperty("snapshot-log").EnumerateArray().Select(e => e.GetProperty("snapshot-id").GetInt64()));
        Assert.Equal(2, metadata.GetProperty("metadata-log").GetArrayLength());
        Assert.Contains("00002-", second.GetProperty("metadata-location").GetString());

        var stale = await _http.PostAsync("v1/namespaces/db/tables/t", Append(_server.Catalog.WarehouseUri, 103, 101, 2, "c.parquet"), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(stale, "CommitFailedException", "ref 'main' has changed: expected snapshot 101 != 102");
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/t", "LoadTableResult");
        Assert.Equal(2, loaded.GetProperty("metadata").GetProperty("snapshots").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"type":"assert-table-uuid","uuid":"00000000-0000-0000-0000-000000000000"}""", "table UUID does not match")]
    [InlineData("""{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":5}""", "ref 'main' is missing")]
    [InlineData("""{"type":"assert-last-assigned-field-id","last-assigned-field-id":2}""", "last assigned field id changed: expected 2 != 3")]
    [InlineData("""{"type":"assert-current-schema-id","current-schema-id":7}""", "current schema changed: expected id 7 != 0")]
    [InlineData("""{"type":"assert-last-assigned-partition-id","last-assigned-partition-id":999}""", "last assigned partition id changed: expected 999 != 1000")]
    [InlineData("""{"type":"assert-default-spec-id","default-spec-id":1}""", "default partition spec changed: expected id 1 != 0")]
    [InlineData("""{"type":"assert-default-sort-order-id","default-sort-order-id":1}""", "default sort order changed: expected id 1 != 0")]
    [InlineData("""{"type":"assert-create"}""", "table already exists")]
    public async Task Every_failed_requirement_is_a_409_commit_failure_with_the_reason_and_changes_nothing(string requirement, string reason)
    {
        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("r"), "LoadTableResult");
        var body = Commit([JsonNode.Parse(requirement)!], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["k"] = "v" } }]);
        var failed = await _http.PostAsync("v1/namespaces/db/tables/r", body, null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(failed, "CommitFailedException", reason);
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/r", "LoadTableResult");
        Assert.Equal(created.GetProperty("metadata-location").GetString(), loaded.GetProperty("metadata-location").GetString());
    }

    [Fact]
    public async Task Passing_requirements_let_schema_spec_order_and_property_updates_through()
    {
        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("evolve"), "LoadTableResult");
        var uuid = created.GetProperty("metadata").GetProperty("table-uuid").GetString();
        var schema = Schema(1);
        schema["fields"]!.AsArray().Add(new JsonObject { ["id"] = 4, ["name"] = "score", ["required"] = false, ["type"] = "double" });
        var body = Commit(
        [
            new JsonObject { ["type"] = "assert-table-uuid", ["uuid"] = uuid },
            new JsonObject { ["type"] = "assert-current-schema-id", ["current-schema-id"] = 0 },
            new JsonObject { ["type"] = "assert-last-assigned-field-id", ["last-assigned-field-id"] = 3 },
            new JsonObject { ["type"] = "assert-last-assigned-partition-id", ["last-assigned-partition-id"] = 1000 },
            new JsonObject { ["type"] = "assert-default-spec-id", ["default-spec-id"] = 0 },
            new JsonObject { ["type"] = "assert-default-sort-order-id", ["default-sort-order-id"] = 0 },
        ],
        [
            new JsonObject { ["action"] = "add-schema", ["schema"] = schema },
            new JsonObject { ["action"] = "set-current-schema", ["schema-id"] = -1 },
            new JsonObject { ["action"] = "add-spec", ["spec"] = new JsonObject { ["fields"] = new JsonArray(
                new JsonObject { ["source-id"] = 1, ["field-id"] = 1001, ["name"] = "id_bucket", ["transform"] = "bucket[16]" }) } },
            new JsonObject { ["action"] = "set-default-spec", ["spec-id"] = -1 },
            new JsonObject { ["action"] = "add-sort-order", ["sort-order"] = new JsonObject { ["order-id"] = 1, ["fields"] = new JsonArray(
                new JsonObject { ["transform"] = "identity", ["source-id"] = 1, ["direction"] = "asc", ["null-order"] = "nulls-first" }) } },
            new JsonObject { ["action"] = "set-default-sort-order", ["sort-order-id"] = -1 },
            new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["write.format.default"] = "parquet" } },
            new JsonObject { ["action"] = "remove-properties", ["removals"] = new JsonArray("owner") },
            new JsonObject { ["action"] = "set-location", ["location"] = created.GetProperty("metadata").GetProperty("location").GetString() + "/moved" },
        ]);
        var m = (await _http.PostAsync("v1/namespaces/db/tables/evolve", body, "CommitTableResponse")).GetProperty("metadata");
        Assert.Equal(1, m.GetProperty("current-schema-id").GetInt32());
        Assert.Equal(4, m.GetProperty("last-column-id").GetInt32());
        Assert.Equal(1, m.GetProperty("default-spec-id").GetInt32());
        Assert.Equal(1001, m.GetProperty("last-partition-id").GetInt32());
        Assert.Equal(1, m.GetProperty("default-sort-order-id").GetInt32());
        Assert.Equal("parquet", m.GetProperty("properties").GetProperty("write.format.default").GetString());
        Assert.False(m.GetProperty("properties").TryGetProperty("owner", out _));
        Assert.EndsWith("/moved", m.GetProperty("location").GetString());

        var bad = Commit([], [new JsonObject { ["action"] = "set-current-schema", ["schema-id"] = 9 }]);
        var refused = await _http.PostAsync("v1/namespaces/db/tables/evolve", bad, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", "9");
        var unknownAction = await _http.PostAsync("v1/namespaces/db/tables/evolve", Commit([], [new JsonObject { ["action"] = "explode" }]), null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(unknownAction, "BadRequestException", "'explode'");
    }

    [Fact]
    public async Task A_write_property_its_writers_cannot_honour_is_a_400_naming_it_at_create_and_at_commit()
    {
        var create = JsonNode.Parse(Create("w"))!.AsObject();
        create["properties"] = new JsonObject { ["write.parquet.compression-codec"] = "brotli" };
        var refused = await _http.PostAsync("v1/namespaces/db/tables", create.ToJsonString(), null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(refused, "BadRequestException", "write.parquet.compression-codec = 'brotli'");
        await _http.GetAsync("v1/namespaces/db/tables/w", "LoadTableResult", HttpStatusCode.NotFound);

        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("w"), "LoadTableResult");
        var body = Commit([], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["write.parquet.row-group-size-bytes"] = "lots" } }]);
        var failed = await _http.PostAsync("v1/namespaces/db/tables/w", body, null, HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(failed, "BadRequestException", "write.parquet.row-group-size-bytes = 'lots'");
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/w", "LoadTableResult");
        Assert.Equal(created.GetProperty("metadata-location").GetString(), loaded.GetProperty("metadata-location").GetString());
    }

    [Fact]
    public async Task Snapshots_refs_leaves_out_snapshots_no_branch_or_tag_points_at()
    {
        await _http.PostAsync("v1/namespaces/db/tables", Create("s"), "LoadTableResult");
        await _http.PostAsync("v1/namespaces/db/tables/s", Append(_server.Catalog.WarehouseUri, 1, null, 1, "a"), "CommitTableResponse");
        await _http.PostAsync("v1/namespaces/db/tables/s", Append(_server.Catalog.WarehouseUri, 2, 1, 2, "b"), "CommitTableResponse");
        var all = await _http.GetAsync("v1/namespaces/db/tables/s?snapshots=all", "LoadTableResult");
        Assert.Equal(2, all.GetProperty("metadata").GetProperty("snapshots").GetArrayLength());
        var refs = await _http.GetAsync("v1/namespaces/db/tables/s?snapshots=refs", "LoadTableResult");
        Assert.Equal([2L], refs.GetProperty("metadata").GetProperty("snapshots").EnumerateArray().Select(s => s.GetProperty("snapshot-id").GetInt64()));
        var bad = await _http.GetAsync("v1/namespaces/db/tables/s?snapshots=some", "LoadTableResult", HttpStatusCode.BadRequest);
        CatalogHttp.AssertError(bad, "BadRequestException", "'some'");
    }

    [Fact]
    public async Task A_staged_create_stores_nothing_until_its_assert_create_commit()
    {
        var staged = await _http.PostAsync("v1/namespaces/db/tables", Create("ctas", staged: true), "LoadTableResult");
        Assert.False(staged.TryGetProperty("metadata-location", out _));
        await _http.GetAsync("v1/namespaces/db/tables/ctas", "LoadTableResult", HttpStatusCode.NotFound);
        var m = staged.GetProperty("metadata");
        var body = Commit([new JsonObject { ["type"] = "assert-create" }],
        [
            new JsonObject { ["action"] = "assign-uuid", ["uuid"] = m.GetProperty("table-uuid").GetString() },
            new JsonObject { ["action"] = "upgrade-format-version", ["format-version"] = 2 },
            new JsonObject { ["action"] = "add-schema", ["schema"] = Schema() },
            new JsonObject { ["action"] = "set-current-schema", ["schema-id"] = -1 },
            new JsonObject { ["action"] = "set-location", ["location"] = m.GetProperty("location").GetString() },
            new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["created-by"] = "ctas" } },
        ]);
        var committed = await _http.PostAsync("v1/namespaces/db/tables/ctas", body, "CommitTableResponse");
        Assert.Equal(m.GetProperty("table-uuid").GetString(), committed.GetProperty("metadata").GetProperty("table-uuid").GetString());
        var loaded = await _http.GetAsync("v1/namespaces/db/tables/ctas", "LoadTableResult");
        Assert.Equal("ctas", loaded.GetProperty("metadata").GetProperty("properties").GetProperty("created-by").GetString());
        var twice = await _http.PostAsync("v1/namespaces/db/tables/ctas", body, null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(twice, "CommitFailedException", "already exists");
    }

    [Fact]
    public async Task Rename_register_and_drop_with_and_without_purge()
    {
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "other" } }, "CreateNamespaceResponse");
        var created = await _http.PostAsync("v1/namespaces/db/tables", Create("a"), "LoadTableResult");
        var metadataLocation = created.GetProperty("metadata-location").GetString()!;
        await _http.PostAsync("v1/tables/rename", new { source = new { @namespace = new[] { "db" }, name = "a" }, destination = new { @namespace = new[] { "other" }, name = "b" } }, null, HttpStatusCode.NoContent);
        await _http.GetAsync("v1/namespaces/db/tables/a", "LoadTableResult", HttpStatusCode.NotFound);
        Assert.Equal(metadataLocation, (await _http.GetAsync("v1/namespaces/other/tables/b", "LoadTableResult")).GetProperty("metadata-location").GetString());
        var renameMissing = await _http.PostAsync("v1/tables/rename", new { source = new { @namespace = new[] { "db" }, name = "a" }, destination = new { @namespace = new[] { "db" }, name = "c" } }, null, HttpStatusCode.NotFound);
        CatalogHttp.AssertError(renameMissing, "NoSuchTableException", "db.a");

        // Dropping without purge keeps the files, so the table can be registered again from its metadata file.
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/other/tables/b", null, HttpStatusCode.NoContent, null);
        Assert.True(File.Exists(new Uri(metadataLocation).LocalPath));
        var registered = await _http.PostAsync("v1/namespaces/db/register", JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = "back", ["metadata-location"] = metadataLocation }), "LoadTableResult");
        Assert.Equal(created.GetProperty("metadata").GetProperty("table-uuid").GetString(), registered.GetProperty("metadata").GetProperty("table-uuid").GetString());
        var registerTwice = await _http.PostAsync("v1/namespaces/db/register", JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = "back", ["metadata-location"] = metadataLocation }), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(registerTwice, "AlreadyExistsException", "db.back");

        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/tables/back?purgeRequested=true", null, HttpStatusCode.NoContent, null);
        Assert.False(File.Exists(new Uri(metadataLocation).LocalPath));
        await _http.SendAsync(HttpMethod.Head, "v1/namespaces/db/tables/back", null, HttpStatusCode.NotFound, null);
        var dropMissing = await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/tables/back", null, HttpStatusCode.NotFound, null);
        CatalogHttp.AssertError(dropMissing, "NoSuchTableException");
    }

    [Fact]
    public async Task A_transaction_commits_all_tables_or_none()
    {
        await _http.PostAsync("v1/namespaces/db/tables", Create("x"), "LoadTableResult");
        await _http.PostAsync("v1/namespaces/db/tables", Create("y"), "LoadTableResult");
        string Change(string table, long snapshot, long? expectedParent, long sequence = 1) =>
            JsonNode.Parse(Append(_server.Catalog.WarehouseUri, snapshot, expectedParent, sequence, table + ".parquet"))!.AsObject().Also(o => o["identifier"] = Identifier("db", table)).ToJsonString();
        var both = $"{{\"table-changes\":[{Change("x", 1, null)},{Change("y", 2, null)}]}}";
        await _http.PostAsync("v1/transactions/commit", both, null, HttpStatusCode.NoContent);
        Assert.Equal(1, (await _http.GetAsync("v1/namespaces/db/tables/x", "LoadTableResult")).GetProperty("metadata").GetProperty("current-snapshot-id").GetInt64());
        Assert.Equal(2, (await _http.GetAsync("v1/namespaces/db/tables/y", "LoadTableResult")).GetProperty("metadata").GetProperty("current-snapshot-id").GetInt64());

        // y's requirement is stale, so x's valid change must not land either.
        var yBefore = (await _http.GetAsync("v1/namespaces/db/tables/y", "LoadTableResult")).GetProperty("metadata-location").GetString();
        var xBefore = (await _http.GetAsync("v1/namespaces/db/tables/x", "LoadTableResult")).GetProperty("metadata-location").GetString();
        var mixed = $"{{\"table-changes\":[{Change("x", 3, 1, 2)},{Change("y", 4, 99, 2)}]}}";
        var failed = await _http.PostAsync("v1/transactions/commit", mixed, null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(failed, "CommitFailedException", "main");
        Assert.Equal(xBefore, (await _http.GetAsync("v1/namespaces/db/tables/x", "LoadTableResult")).GetProperty("metadata-location").GetString());
        Assert.Equal(yBefore, (await _http.GetAsync("v1/namespaces/db/tables/y", "LoadTableResult")).GetProperty("metadata-location").GetString());
    }

    [Fact]
    public async Task Metrics_reports_are_accepted_for_existing_tables()
    {
        await _http.PostAsync("v1/namespaces/db/tables", Create("m"), "LoadTableResult");
        var report = """{"report-type":"commit-report","table-name":"db.m","snapshot-id":1,"sequence-number":1,"operation":"append","metrics":{}}""";
        await _http.PostAsync("v1/namespaces/db/tables/m/metrics", report, null, HttpStatusCode.NoContent);
        await _http.PostAsync("v1/namespaces/db/tables/none/metrics", report, null, HttpStatusCode.NotFound);
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject o, Action<JsonObject> edit)
    {
        edit(o);
        return o;
    }
}
