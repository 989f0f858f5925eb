using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.RestClient;
using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static DataPlane.Catalog.Tests.Rest.TableRequests;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>Commits that queue up behind a running group on the same table are applied as one group: one metadata file, one swap, one answer each.</summary>
public sealed class GroupCommitTests
{
    private static readonly Namespace Db = new(["db"]);

    [Fact]
    public async Task Each_commit_of_a_group_gets_its_own_outcome_and_the_group_writes_one_metadata_file()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        await client.CreateTableAsync(["db"], JsonNode.Parse(Create("t"))!.AsObject());
        var created = await client.LoadTableAsync(["db"], "t");
        var committer = server.Catalog.Committer;

        Task<TableCommitter.Committed>[] commits;
        using (await committer.HoldAsync(Db, "t"))
        {
            // Queued in this order while the table is held, so they form one group and are checked in this order.
            commits =
            [
                committer.CommitAsync(Change(Append(server.Catalog.WarehouseUri, 1, null, 1, "a.parquet"))),
                committer.CommitAsync(Change(Append(server.Catalog.WarehouseUri, 2, null, 1, "b.parquet"))), // main moved to 1 just before it
                committer.CommitAsync(Change(Append(server.Catalog.WarehouseUri, 3, 1, 2, "c.parquet"))), // builds on the first
                committer.CommitAsync(Change(Commit([new JsonObject { ["type"] = "assert-table-uuid", ["uuid"] = Guid.Empty.ToString() }],
                    [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["wrong"] = "table" } }]))),
                committer.CommitAsync(Change(Append(server.Catalog.WarehouseUri, 4, 3, 2, "d.parquet"))), // right parent, but a sequence number already taken
                committer.CommitAsync(Change(Commit([AssertRef("main", 3)],
                    [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["after"] = "c" } }]))),
            ];
            Assert.All(commits, c => Assert.False(c.IsCompleted));
        }

        var landed = new[] { 0, 2, 5 }.Select(i => commits[i].Result).ToList();
        Assert.Single(landed.Select(c => c.MetadataLocation).Distinct());
        Assert.Contains("ref 'main' was created concurrently (now at snapshot 1)", (await Refused(commits[1])).Message);
        Assert.Contains("table UUID does not match", (await Refused(commits[3])).Message);
        Assert.Contains("sequence number 2", (await Refused(commits[4])).Message);

        var loaded = await client.LoadTableAsync(["db"], "t");
        Assert.Equal(landed[0].MetadataLocation, loaded.MetadataLocation);
        Assert.Equal(3, loaded.CurrentSnapshotId);
        Assert.Equal([1L, 3L], loaded.Metadata.GetProperty("snapshots").EnumerateArray().Select(s => s.GetProperty("snapshot-id").GetInt64()));
        Assert.Equal([1L, 3L], loaded.Metadata.GetProperty("snapshot-log").EnumerateArray().Select(s => s.GetProperty("snapshot-id").GetInt64()));
        Assert.Equal("c", loaded.Metadata.GetProperty("properties").GetProperty("after").GetString());
        Assert.False(loaded.Metadata.GetProperty("properties").TryGetProperty("wrong", out _));
        // One file for the group: the log holds only the file the group started from.
        Assert.Equal([created.MetadataLocation], loaded.Metadata.GetProperty("metadata-log").EnumerateArray().Select(e => e.GetProperty("metadata-file").GetString()));
        var metadataFolder = new Uri(loaded.Location + "/metadata").LocalPath;
        Assert.Equal(2, Directory.GetFiles(metadataFolder, "*.metadata.json").Length);
    }

    [Fact]
    public async Task A_group_keeps_the_metadata_log_within_previous_versions_max()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        await client.CreateTableAsync(["db"], JsonNode.Parse(Create("t"))!.AsObject());
        var committer = server.Catalog.Committer;
        await committer.CommitAsync(Change(Commit([], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["write.metadata.previous-versions-max"] = "3" } }])));
        var locations = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            Task<TableCommitter.Committed>[] group;
            using (await committer.HoldAsync(Db, "t"))
                group = [.. Enumerable.Range(0, 3).Select(j => committer.CommitAsync(Change(Commit([], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { [$"k{i}-{j}"] = "v" } }]))))];
            locations.Add((await Task.WhenAll(group))[0].MetadataLocation);
        }

        var loaded = await client.LoadTableAsync(["db"], "t");
        Assert.Equal(locations[^1], loaded.MetadataLocation);
        Assert.Equal(locations[^4..^1], loaded.Metadata.GetProperty("metadata-log").EnumerateArray().Select(e => e.GetProperty("metadata-file").GetString()));
        Assert.Equal(18, loaded.Metadata.GetProperty("properties").EnumerateObject().Count(p => p.Name.StartsWith('k')));
    }

    [Fact]
    public async Task Swaps_of_different_tables_sharing_one_transaction_land_or_lose_each_on_its_own()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        foreach (var name in new[] { "a", "b", "c" })
            await client.CreateTableAsync(["db"], JsonNode.Parse(Create(name))!.AsObject());
        var store = server.Catalog.Store;
        string Current(string name) => store.LoadMetadataLocation(CatalogObjectKind.Table, Db, name)!;
        var (a, b, c) = (Current("a"), Current("b"), Current("c"));

        var outcomes = store.TrySwapEach(CatalogObjectKind.Table,
        [
            new MetadataSwap(Db, "a", a, a + ".next"),
            new MetadataSwap(Db, "b", a, b + ".next"), // read at another file: lost
            new MetadataSwap(Db, "c", null, c + ".next"), // a create over an existing table: refused
            new MetadataSwap(Db, "d", null, "file:///d.metadata.json", server.Catalog.Files.ToTableLocation(server.Catalog.WarehouseUri + "/db/d")),
        ]);

        Assert.Equal([true, false, false, true], outcomes.Select(o => o.Applied));
        Assert.Equal("AlreadyExistsException", outcomes[2].Error?.Type);
        Assert.Equal((a + ".next", b, c), (Current("a"), Current("b"), Current("c")));
        Assert.Equal("file:///d.metadata.json", Current("d"));
    }

    [Fact]
    public async Task A_metadata_file_written_for_a_swap_that_lost_is_deleted_and_the_retry_lands()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        await client.CreateTableAsync(["db"], JsonNode.Parse(Create("t"))!.AsObject());
        var catalog = server.Catalog;
        // Another process on the same catalog files: its own committer, queues and swap batcher.
        var other = new TableCommitter(catalog.Store, catalog.Files, catalog.Locations, TimeProvider.System);

        Task<TableCommitter.Committed> ours;
        using (await catalog.Committer.HoldSwapsAsync())
        {
            ours = catalog.Committer.CommitAsync(Change(Commit([], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["ours"] = "1" } }])));
            var metadataFolder = Path.Combine(catalog.Options.WarehouseLocation, "db", "t", "metadata");
            // Our group has written its file and waits to swap; the other writer moves the table meanwhile.
            while (Directory.GetFiles(metadataFolder, "*.metadata.json").Length < 2) await Task.Delay(5);
            await other.CommitAsync(Change(Commit([], [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { ["theirs"] = "1" } }])));
        }
        var landed = await ours;

        var loaded = await client.LoadTableAsync(["db"], "t");
        Assert.Equal(landed.MetadataLocation, loaded.MetadataLocation);
        Assert.Equal("1", loaded.Metadata.GetProperty("properties").GetProperty("ours").GetString());
        Assert.Equal("1", loaded.Metadata.GetProperty("properties").GetProperty("theirs").GetString());
        // Created, theirs, ours (the retry): the file of the attempt that lost is gone.
        var referenced = loaded.Metadata.GetProperty("metadata-log").EnumerateArray().Select(e => e.GetProperty("metadata-file").GetString()).Append(loaded.MetadataLocation);
        var files = Directory.GetFiles(new Uri(loaded.Location + "/metadata").LocalPath, "*.metadata.json").Select(f => new Uri(f).AbsoluteUri);
        Assert.Equal(referenced.Order(), files.Order());
        Assert.Equal(3, files.Count());
    }

    [Fact]
    public async Task The_catalogs_next_commit_completes_once_a_commit_lands_and_not_for_a_refused_one()
    {
        await using var server = await RestCatalogServer.StartAsync();
        using var client = new IcebergRestClient(server.BaseUri);
        await client.InitializeAsync();
        await client.CreateNamespaceAsync(["db"]);
        await client.CreateTableAsync(["db"], JsonNode.Parse(Create("t"))!.AsObject());
        ICatalog catalog = server.Services.GetRequiredService<ICatalog>();
        static JsonArray SetProperty(string key) => [new JsonObject { ["action"] = "set-properties", ["updates"] = new JsonObject { [key] = "1" } }];

        var next = catalog.NextCommit ?? throw new InvalidOperationException("DataPlane's own catalog tells when a commit lands.");
        await Assert.ThrowsAnyAsync<Exception>(() => client.CommitTableAsync(["db"], "t",
            [new JsonObject { ["type"] = "assert-table-uuid", ["uuid"] = Guid.Empty.ToString() }], SetProperty("refused")));
        Assert.False(next.IsCompleted);

        await client.CommitTableAsync(["db"], "t", [], SetProperty("landed"));
        await next.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(catalog.NextCommit!.IsCompleted); // the one after it waits for another commit
    }

    private static TableCommitter.Change Change(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return TableCommitter.Parse(Db, "t", doc.RootElement.GetProperty("requirements").Clone(), doc.RootElement.GetProperty("updates").Clone());
    }

    private static async Task<CatalogException> Refused(Task commit)
    {
        var e = await Assert.ThrowsAsync<CatalogException>(() => commit);
        Assert.Equal("CommitFailedException", e.Type);
        Assert.Equal(409, RestException.From(e).Code);
        return e;
    }
}
