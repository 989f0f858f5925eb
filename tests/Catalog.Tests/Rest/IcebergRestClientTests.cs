using System.Text.Json.Nodes;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using Xunit;

namespace DataPlane.Catalog.Tests.Rest;

public sealed class IcebergRestClientTests
{
    [Fact]
    public async Task The_client_authenticates_with_client_credentials_follows_the_prefix_and_pages_through_lists()
    {
        await using var server = await RestCatalogServer.StartAsync(folder => RestCatalogServer.Defaults(folder) is var d
            ? new RestCatalogOptions { WarehouseLocation = d.WarehouseLocation, DatabasePath = d.DatabasePath, Clients = [new RestCatalogClient("writer", "pw")] }
            : null!);
        using var client = new IcebergRestClient(server.BaseUri, warehouse: "dataplane", credential: "writer:pw");
        await client.InitializeAsync();
        Assert.Equal("dataplane", client.Config["prefix"]);

        await client.CreateNamespaceAsync(["a"], new Dictionary<string, string> { ["k"] = "v" });
        await client.CreateNamespaceAsync(["a", "b c"]);
        Assert.Equal("v", (await client.LoadNamespaceAsync(["a"]))["k"]);
        Assert.Equal(["a", "b c"], (await client.ListNamespacesAsync(["a"])).Single());
        for (var i = 0; i < 3; i++)
            await client.CreateTableAsync(["a", "b c"], JsonNode.Parse(TableRequests.Create($"t{i}"))!.AsObject());
        Assert.Equal(["t0", "t1", "t2"], await client.ListTablesAsync(["a", "b c"]));
        var table = await client.LoadTableAsync(["a", "b c"], "t1");
        Assert.Null(table.CurrentSnapshotId);
        Assert.EndsWith("/a/b c/t1", table.Location);

        var missing = await Assert.ThrowsAsync<RestCatalogException>(() => client.LoadTableAsync(["a"], "nope"));
        Assert.Equal("NoSuchTableException", missing.Type);
        var notEmpty = await Assert.ThrowsAsync<RestCatalogException>(() => client.DropNamespaceAsync(["a"]));
        Assert.Equal("NamespaceNotEmptyException", notEmpty.Type);

        using var anonymous = new IcebergRestClient(server.BaseUri);
        var refused = await Assert.ThrowsAsync<RestCatalogException>(() => anonymous.InitializeAsync());
        Assert.Equal(401, refused.Code);
    }

    [Fact]
    public async Task Credential_vending_is_refused_at_start_up_naming_the_setting_so_no_client_ever_gets_the_servers_keys()
    {
        // With vending on, any token (a read-only one too) that asked got these long-lived read-write keys.
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => RestCatalogServer.StartAsync(folder => RestCatalogServer.Defaults(folder) is var d
            ? new RestCatalogOptions
            {
                WarehouseLocation = d.WarehouseLocation, DatabasePath = d.DatabasePath, VendCredentials = true,
                S3 = new Storage.S3Options { Endpoint = "http://127.0.0.1:9", AccessKey = "server-key", SecretKey = "server-secret" },
                Tokens = [new RestCatalogToken("reader", ReadOnly: true)],
            }
            : null!));
        Assert.Contains("Catalog:VendCredentials", refused.Message);
        Assert.Contains("never hands out its own S3 keys", refused.Message);
    }

    [Fact]
    public async Task A_remote_catalog_reuses_one_store_for_the_tables_of_one_location_however_often_they_are_loaded()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var catalog = await RemoteCatalog.OpenAsync(server.BaseUri);
        await catalog.CreateNamespaceIfMissingAsync(["ns"]);
        var schema = new Iceberg.Schemas.Schema(0, [Iceberg.Types.NestedField.Require(1, "id", Iceberg.Types.PrimitiveType.Long)]);
        var first = await catalog.CreateTableAsync(new Iceberg.Catalogs.TableIdentifier(["ns"], "a"), schema);
        var second = await catalog.CreateTableAsync(new Iceberg.Catalogs.TableIdentifier(["ns"], "b"), schema);
        // A pipeline loads its table again for every commit, and maintenance for every check: each load used to open a store.
        for (var i = 0; i < 20; i++)
            Assert.Same(first.Store, (await catalog.LoadTableAsync(new Iceberg.Catalogs.TableIdentifier(["ns"], i % 2 == 0 ? "a" : "b"))).Store);
        Assert.Same(first.Store, second.Store);
    }
}
