using System.Text.Json.Nodes;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Catalog.Store;
using DataPlane.Catalog.Tests.Rest;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Catalog.Tests.Catalogs;

public sealed class IcebergCatalogTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("iceberg-catalog-");

    private RestCatalogOptions Options => RestCatalogServer.Defaults(_dir.FullName);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Delete(recursive: true);
    }

    private static DataFile File(string path, long records) => new()
    {
        FilePath = path,
        SpecId = 0,
        Partition = PartitionData.Empty,
        RecordCount = records,
        FileSizeInBytes = 100,
    };

    [Fact]
    public async Task An_in_process_append_and_a_REST_commit_to_the_same_table_are_grouped_into_one_metadata_file()
    {
        await using var server = await RestCatalogServer.StartAsync(_ => Options);
        var catalog = server.Services.GetRequiredService<IcebergCatalog>();
        var id = TableIdentifier.Parse("db.t");
        catalog.CreateNamespaceIfMissing(id.Namespace);
        var table = await catalog.CreateTableAsync(id, TableDefinition.ParseSchema("id:long!"));
        var created = table.State.MetadataLocation;
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        var committer = server.Catalog.Committer;
        var ns = new Namespace(id.Namespace);

        Task<Snapshot> append;
        Task<LoadedTable> rest;
        using (await committer.HoldAsync(ns, id.Name))
        {
            // A sink's commit (the table library through the in-process catalog) and a client's, queued behind a running group.
            append = table.AppendAsync([File("file:///a.parquet", 3)]);
            rest = client.CommitTableAsync(id.Namespace, id.Name, [],
                [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["owner"] = "spark" } }]);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (committer.Waiting(ns, id.Name) < 2 && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.Equal(2, committer.Waiting(ns, id.Name));
        }
        var snapshot = await append;
        var loaded = await rest;

        // Both landed in one metadata file: the one each writer was answered with, the table's current one, whose log
        // holds only the file the group started from.
        Assert.Equal(loaded.MetadataLocation, table.State.MetadataLocation);
        Assert.Equal(snapshot.SnapshotId, loaded.CurrentSnapshotId);
        Assert.Equal("spark", table.Metadata.Properties["owner"]);
        Assert.Equal([created], table.Metadata.MetadataLog.Select(e => e.MetadataFile));
        Assert.Equal(2, Directory.GetFiles(new Uri(table.Metadata.Location + "/metadata").LocalPath, "*.metadata.json").Length);
    }

    [Fact]
    public void Compact_definitions_parse_columns_and_transforms()
    {
        var schema = TableDefinition.ParseSchema("id:long!, data:string, price:decimal(9,2), ts:timestamptz");
        Assert.Equal(["id", "data", "price", "ts"], schema.Columns.Select(c => c.Name));
        Assert.True(schema.Field("id").Required);
        Assert.Equal(PrimitiveType.Decimal(9, 2), schema.Field("price").Type);
        var spec = TableDefinition.ParsePartitionSpec(schema, "day(ts), bucket(16, id), data");
        Assert.Equal(["ts_day", "id_bucket", "data"], spec.Fields.Select(f => f.Name));
        Assert.Equal(Transform.Bucket(16), spec.Fields[1].Transform);
        Assert.Throws<ArgumentException>(() => TableDefinition.ParsePartitionSpec(schema, "zorder(id)"));
        Assert.Throws<FormatException>(() => TableDefinition.ParseSchema("id:varchar"));
    }

    [Fact]
    public async Task Tables_are_created_once_in_existing_namespaces_listed_loaded_and_dropped_with_their_files()
    {
        using var catalog = new IcebergCatalog(Options);
        var schema = TableDefinition.ParseSchema("id:long!,ts:timestamptz");
        var id = TableIdentifier.Parse("acme.sales.orders");

        var missingNs = await Assert.ThrowsAsync<CatalogException>(() => catalog.CreateTableAsync(id, schema));
        Assert.Equal("NoSuchNamespaceException", missingNs.Type);
        Assert.True(catalog.CreateNamespaceIfMissing(id.Namespace));
        Assert.False(catalog.CreateNamespaceIfMissing(id.Namespace));
        Assert.Equal([["acme"]], catalog.ListNamespaces().Select(n => n.ToArray()));

        var table = await catalog.CreateTableAsync(id, schema, TableDefinition.ParsePartitionSpec(schema, "day(ts)"));
        Assert.EndsWith("/acme/sales/orders", table.Metadata.Location);
        var again = await Assert.ThrowsAsync<CatalogException>(() => catalog.CreateTableAsync(id, schema));
        Assert.True(again.IsAlreadyExists);
        Assert.True(catalog.TableExists(id));
        Assert.Equal([id], catalog.ListTables(id.Namespace));
        var loaded = await catalog.LoadTableAsync(id);
        Assert.Equal(table.Metadata.TableUuid, loaded.Metadata.TableUuid);
        Assert.Equal(table.State.MetadataLocation, loaded.State.MetadataLocation);

        var folder = new Uri(table.Metadata.Location).LocalPath;
        Assert.True(Directory.Exists(folder));
        Assert.True(await catalog.DropTableAsync(id, purge: true));
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any(), $"files left in {folder}");
        Assert.False(await catalog.DropTableAsync(id));
        Assert.Null(await catalog.TryLoadTableAsync(id));
        Assert.Equal("NoSuchTableException", (await Assert.ThrowsAsync<CatalogException>(() => catalog.LoadTableAsync(id))).Type);
    }

    [Fact]
    public async Task A_writer_that_loses_the_swap_retries_on_top_and_without_retries_gets_commit_failed()
    {
        using var catalog = new IcebergCatalog(Options);
        var id = TableIdentifier.Parse("db.events");
        catalog.CreateNamespaceIfMissing(id.Namespace);
        await catalog.CreateTableAsync(id, TableDefinition.ParseSchema("id:long!"));
        var first = await catalog.LoadTableAsync(id);
        var second = await catalog.LoadTableAsync(id);

        var a = await first.AppendAsync([File("file:///a.parquet", 1)]);
        var b = await second.AppendAsync([File("file:///b.parquet", 2)]); // started from the metadata before a
        Assert.Equal(a.SnapshotId, b.ParentSnapshotId);
        var reloaded = await catalog.LoadTableAsync(id);
        Assert.Equal(b.SnapshotId, reloaded.Metadata.CurrentSnapshotId);
        Assert.Equal("3", reloaded.Metadata.CurrentSnapshot!.Summary["total-records"]);

        await reloaded.SetPropertiesAsync(new Dictionary<string, string> { ["commit.retry.num-retries"] = "0" });
        var stale = await catalog.LoadTableAsync(id);
        await reloaded.AppendAsync([File("file:///c.parquet", 1)]);
        await Assert.ThrowsAsync<CommitFailedException>(() => stale.AppendAsync([File("file:///d.parquet", 1)]));
    }

    [Fact]
    public async Task The_services_catalog_and_the_rest_endpoint_see_each_others_commits()
    {
        await using var server = await RestCatalogServer.StartAsync();
        var catalog = server.Services.GetRequiredService<IcebergCatalog>();
        var id = TableIdentifier.Parse("db.events");
        catalog.CreateNamespaceIfMissing(id.Namespace);
        var table = await catalog.CreateTableAsync(id, TableDefinition.ParseSchema("id:long!"));
        var appended = await table.AppendAsync([File("file:///a.parquet", 5)]);

        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        Assert.Equal(["events"], await client.ListTablesAsync(["db"]));
        var loaded = await client.LoadTableAsync(["db"], "events");
        Assert.Equal(table.State.MetadataLocation, loaded.MetadataLocation);
        Assert.Equal(appended.SnapshotId, loaded.CurrentSnapshotId);

        // A commit through the endpoint is what the in-process table finds on refresh.
        var viaRest = await DataPlane.Iceberg.Operations.Table.LoadAsync(catalog.Warehouse, new RestTableCommitter(client, ["db"], "events"));
        var restSnapshot = await viaRest.AppendAsync([File("file:///b.parquet", 1)]);
        await table.RefreshAsync();
        Assert.Equal(restSnapshot.SnapshotId, table.Metadata.CurrentSnapshotId);
        Assert.Equal(appended.SnapshotId, restSnapshot.ParentSnapshotId);
    }
}
