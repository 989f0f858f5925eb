using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Catalog.Catalogs;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Scanning;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static DataPlane.Catalog.Tests.Rest.TableRequests;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>
/// Purge must never delete a neighbour's files: a table may not be created, registered or moved inside, over or around
/// another table's location, and a purge deletes only the files its metadata references, keeping those of any table
/// whose location holds them (tables that overlap from before the catalog refused it).
/// </summary>
public sealed class TableLocationTests : IAsyncLifetime
{
    private RestCatalogServer _server = null!;
    private CatalogHttp _http = null!;
    private string _warehouse = null!;

    public async Task InitializeAsync()
    {
        _server = await RestCatalogServer.StartAsync();
        _http = new CatalogHttp(_server);
        _warehouse = _server.Catalog.WarehouseUri;
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "db" } }, "CreateNamespaceResponse");
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "other" } }, "CreateNamespaceResponse");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_table_may_not_be_created_registered_or_moved_inside_over_or_around_another_tables_location()
    {
        var a = await CreateWithDataAsync("db", "a");
        var written = await ReadEverySnapshotAsync(new TableIdentifier(["db"], "a"));
        var aLocation = a.Metadata.Location;
        Assert.Equal($"{_warehouse}/db/a", aLocation);

        // Created over, inside or around A, from its own namespace or another.
        foreach (var (ns, location) in new[]
                 {
                     ("db", aLocation), ("db", aLocation + "/"), ("db", aLocation + "/inner"), ("db", aLocation + "/data/deeper"),
                     ("db", $"{_warehouse}/db"), ("other", aLocation), ("other", aLocation + "/metadata"),
                 })
        {
            var body = JsonNode.Parse(Create("b"))!.AsObject().Also(o => o["location"] = location).ToJsonString();
            var refused = await _http.PostAsync($"v1/namespaces/{ns}/tables", body, null, HttpStatusCode.Conflict);
            CatalogHttp.AssertError(refused, "AlreadyExistsException", "db.a");
            CatalogHttp.AssertError(refused, "AlreadyExistsException", location.TrimEnd('/'));
            var staged = JsonNode.Parse(Create("b", staged: true))!.AsObject().Also(o => o["location"] = location).ToJsonString();
            await _http.PostAsync($"v1/namespaces/{ns}/tables", staged, null, HttpStatusCode.Conflict);
        }

        // Registered twice: a second table from A's metadata file.
        var twice = await _http.PostAsync("v1/namespaces/other/register",
            JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = "copy", ["metadata-location"] = a.State.MetadataLocation }), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(twice, "AlreadyExistsException", "db.a");

        // Moved there by a commit, a staged create's commit, or a multi-table transaction.
        await _http.PostAsync("v1/namespaces/db/tables", Create("b"), "LoadTableResult");
        foreach (var location in new[] { aLocation, aLocation + "/inner", $"{_warehouse}/db" })
        {
            var move = Commit([], [new JsonObject { ["action"] = "set-location", ["location"] = location }]);
            var refused = await _http.PostAsync("v1/namespaces/db/tables/b", move, null, HttpStatusCode.BadRequest);
            CatalogHttp.AssertError(refused, "BadRequestException", "db.a");
            var inTransaction = $"{{\"table-changes\":[{JsonNode.Parse(move)!.AsObject().Also(o => o["identifier"] = Identifier("db", "b")).ToJsonString()}]}}";
            await _http.PostAsync("v1/transactions/commit", inTransaction, null, HttpStatusCode.BadRequest);
        }
        var stagedC = (await _http.PostAsync("v1/namespaces/db/tables", Create("c", staged: true), "LoadTableResult")).GetProperty("metadata");
        var createC = Commit([new JsonObject { ["type"] = "assert-create" }],
        [
            new JsonObject { ["action"] = "assign-uuid", ["uuid"] = stagedC.GetProperty("table-uuid").GetString() },
            new JsonObject { ["action"] = "upgrade-format-version", ["format-version"] = 2 },
            new JsonObject { ["action"] = "add-schema", ["schema"] = Schema() },
            new JsonObject { ["action"] = "set-current-schema", ["schema-id"] = -1 },
            new JsonObject { ["action"] = "set-location", ["location"] = aLocation + "/inner" },
        ]);
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables/c", createC, null, HttpStatusCode.Conflict), "AlreadyExistsException", "db.a");
        await _http.GetAsync("v1/namespaces/db/tables/c", "LoadTableResult", HttpStatusCode.NotFound);

        // A table keeps its location when renamed, so a new table of the old name may not take it.
        await _http.PostAsync("v1/tables/rename", new { source = new { @namespace = new[] { "db" }, name = "a" }, destination = new { @namespace = new[] { "other" }, name = "renamed" } }, null, HttpStatusCode.NoContent);
        var reused = await _http.PostAsync("v1/namespaces/db/tables", Create("a"), null, HttpStatusCode.Conflict);
        CatalogHttp.AssertError(reused, "AlreadyExistsException", "other.renamed");

        // A table holding a namespace's folder would hold every table created in it.
        await _http.PostAsync("v1/namespaces", new { @namespace = new[] { "lake" } }, "CreateNamespaceResponse");
        var overNamespace = JsonNode.Parse(Create("wide"))!.AsObject().Also(o => o["location"] = $"{_warehouse}/lake").ToJsonString();
        CatalogHttp.AssertError(await _http.PostAsync("v1/namespaces/db/tables", overNamespace, null, HttpStatusCode.Conflict), "AlreadyExistsException", "namespace lake");

        // Elsewhere is fine, and nothing refused touched A: purging b leaves A whole.
        var elsewhere = JsonNode.Parse(Create("d"))!.AsObject().Also(o => o["location"] = $"{_warehouse}/elsewhere/d").ToJsonString();
        await _http.PostAsync("v1/namespaces/db/tables", elsewhere, "LoadTableResult");
        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/tables/b?purgeRequested=true", null, HttpStatusCode.NoContent, null);
        var loaded = await _http.GetAsync("v1/namespaces/other/tables/renamed", "LoadTableResult");
        Assert.Equal(a.State.MetadataLocation, loaded.GetProperty("metadata-location").GetString());
        Assert.Equal(written, await ReadEverySnapshotAsync(new TableIdentifier(["other"], "renamed")));
    }

    [Fact]
    public async Task Purging_a_table_that_overlaps_another_from_before_this_fix_leaves_the_other_fully_readable()
    {
        var a = await CreateWithDataAsync("db", "a");
        var written = await ReadEverySnapshotAsync(new TableIdentifier(["db"], "a"));
        Assert.Equal([100, 150, 120], written.Values.Select(ids => ids.Count)); // two appends, then ids below 30 deleted
        var warehouse = _server.Catalog.Warehouse;

        // What a catalog from before the fix may hold: the same metadata registered twice, and tables created with their
        // own metadata and data inside A, at A's location, and around it (at its namespace's folder).
        var inside = await FileTableWithDataAsync(warehouse, "db/a/inner", 0);
        var over = await FileTableWithDataAsync(warehouse, "db/a", 1000);
        var around = await FileTableWithDataAsync(warehouse, "db", 2000);
        var onlyTheirs = new List<string>();
        foreach (var table in new[] { inside, over, around })
            onlyTheirs.AddRange((await table.Table.NewScan().PlanFilesAsync()).Select(task => task.File.FilePath));
        onlyTheirs.Add(inside.MetadataLocation);
        InsertLegacyRow("twice", a.State.MetadataLocation);
        InsertLegacyRow("inside", inside.MetadataLocation);
        InsertLegacyRow("over", over.MetadataLocation);
        InsertLegacyRow("around", around.MetadataLocation);

        foreach (var name in new[] { "twice", "inside", "over", "around" })
            await _http.SendAsync(HttpMethod.Delete, $"v1/namespaces/db/tables/{name}?purgeRequested=true", null, HttpStatusCode.NoContent, null);

        var loaded = await _http.GetAsync("v1/namespaces/db/tables/a", "LoadTableResult");
        Assert.Equal(a.State.MetadataLocation, loaded.GetProperty("metadata-location").GetString());
        Assert.Equal(written, await ReadEverySnapshotAsync(new TableIdentifier(["db"], "a")));
        // The purges still removed what was only theirs.
        Assert.All(onlyTheirs, l => Assert.False(File.Exists(new Uri(l).LocalPath), $"{l} should have been purged"));
    }

    [Fact]
    public async Task Purge_deletes_only_the_files_the_tables_metadata_references()
    {
        var t = await CreateWithDataAsync("db", "t");
        var referenced = new List<string> { t.State.MetadataLocation };
        referenced.AddRange(t.Metadata.MetadataLog.Select(e => e.MetadataFile));
        foreach (var snapshot in t.Metadata.Snapshots)
        {
            referenced.Add(snapshot.ManifestList!);
            referenced.AddRange((await t.NewScan().UseSnapshot(snapshot.SnapshotId).PlanFilesAsync()).Select(task => task.File.FilePath));
        }
        // Files under the table's folder that its metadata does not name: another writer's, about to be committed elsewhere.
        var strangers = new[] { "db/t/data/someone-elses.parquet", "db/t/metadata/notes.txt", "db/t/other/x.bin" };
        foreach (var key in strangers)
            await _server.Catalog.Warehouse.PutAsync(key, new MemoryStream([1, 2, 3]));

        await _http.SendAsync(HttpMethod.Delete, "v1/namespaces/db/tables/t?purgeRequested=true", null, HttpStatusCode.NoContent, null);

        Assert.All(referenced.Distinct(), l => Assert.False(File.Exists(new Uri(l).LocalPath), $"{l} should have been purged"));
        Assert.All(strangers, k => Assert.True(File.Exists(Path.Combine(_server.Folder, "warehouse", k)), $"{k} is not the table's and must stay"));
    }

    /// <summary>A table created through the REST catalog whose data is written in-process: two appends and a
    /// copy-on-write delete, so three snapshots over different sets of files.</summary>
    private async Task<Table> CreateWithDataAsync(string ns, string name)
    {
        await _http.PostAsync($"v1/namespaces/{ns}/tables", Create(name), "LoadTableResult");
        var catalog = _server.Services.GetRequiredService<IcebergCatalog>();
        var table = await catalog.LoadTableAsync(new TableIdentifier([ns], name));
        await TableBatches.AppendAsync(table, [Batch(table, 0, 100)]);
        await TableBatches.AppendAsync(table, [Batch(table, 100, 50)]);
        await table.DeleteWhereAsync(Expression.LessThan("id", 30L));
        return table;
    }

    private static async Task<(Table Table, string MetadataLocation)> FileTableWithDataAsync(Storage.IObjectStore warehouse, string key, long firstId)
    {
        var committer = new FileTableCommitter(warehouse, key);
        var table = await Table.CreateAsync(warehouse, committer, committer.TableLocation, DataPlane.Iceberg.Schemas.Schema.FromJson(Schema().ToJsonString()));
        await TableBatches.AppendAsync(table, [Batch(table, firstId, 20)]);
        return (table, table.State.MetadataLocation);
    }

    private static RecordBatch Batch(Table table, long firstId, int count)
    {
        var arrow = ArrowSchemaMapping.ToArrow(table.Schema);
        var ids = Enumerable.Range(0, count).Select(i => (long?)(firstId + i)).ToArray();
        return new RecordBatch(arrow,
        [
            ArrowColumns.Longs(ids),
            ArrowColumns.Timestamps((TimestampType)arrow.FieldsList[1].DataType, ids.Select(id => (long?)(1_700_000_000_000_000 + id!.Value * 1_000_000)).ToArray()),
            ArrowColumns.Strings(ids.Select(id => (string?)$"row {id}").ToArray()),
        ], count);
    }

    /// <summary>A table row as a catalog from before location checks could hold it: no location recorded.</summary>
    private void InsertLegacyRow(string name, string metadataLocation)
    {
        using var c = new SqliteConnection($"Data Source={_server.Options.DatabasePath}");
        c.Open();
        using var insert = c.CreateCommand();
        insert.CommandText = "INSERT INTO tables(namespace, name, metadata_location) VALUES ('db', $name, $location)";
        insert.Parameters.AddWithValue("$name", name);
        insert.Parameters.AddWithValue("$location", metadataLocation);
        insert.ExecuteNonQuery();
    }

    /// <summary>
    /// The ids every snapshot in the table's metadata holds, as DuckDB reads them over the snapshot's files and as icebird
    /// reads them from the metadata over HTTP (the two must agree); a missing or unreadable file fails the read.
    /// </summary>
    private async Task<Dictionary<long, List<long>>> ReadEverySnapshotAsync(TableIdentifier id)
    {
        var table = await _server.Services.GetRequiredService<IcebergCatalog>().LoadTableAsync(id);
        using var files = new HttpFileServer(Path.Combine(_server.Folder, "warehouse"));
        var scratch = Path.Combine(_server.Folder, "fetched");
        return await new SnapshotReads(table, scratch, files: files).EverySnapshotAsync();
    }
}
