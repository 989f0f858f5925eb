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
    public async Task Asked_for_vended_credentials_the_catalog_gives_the_keys_for_the_tables_location_and_only_then()
    {
        await using var server = await RestCatalogServer.StartAsync(folder => RestCatalogServer.Defaults(folder) is var d
            ? new RestCatalogOptions
            {
                WarehouseLocation = d.WarehouseLocation, DatabasePath = d.DatabasePath, VendCredentials = true,
                S3 = new Storage.S3Options { Endpoint = "http://127.0.0.1:9", AccessKey = "reader-key", SecretKey = "reader-secret" },
            }
            : null!);
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        await client.CreateTableAsync(["db"], JsonNode.Parse(TableRequests.Create("t"))!.AsObject());

        var plain = await client.LoadTableAsync(["db"], "t");
        var vended = await client.LoadTableAsync(["db"], "t", vendedCredentials: true);

        Assert.False(plain.Config.ContainsKey("s3.access-key-id"));
        Assert.Equal("reader-key", vended.Config["s3.access-key-id"]);
        Assert.Equal("reader-secret", vended.Config["s3.secret-access-key"]);
        Assert.Equal(plain.MetadataLocation, vended.MetadataLocation);
    }
}
