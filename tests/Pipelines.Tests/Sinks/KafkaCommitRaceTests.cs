using System.Text.Json;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Iceberg.Types;
using DataPlane.Pipelines.Sinks;
using DataPlane.Storage;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// Two workers of a Kafka-backed stream's pipeline commit to one table through the REST catalog, and the second lands
/// between the first's check of its partitions and its commit: the first's commit asserts the main branch's snapshot it
/// checked against, gets the catalog's 409, reads the table again and checks its partitions again, then commits when the
/// other worker committed other partitions, and is refused when it committed one of the first's.
/// </summary>
public sealed class KafkaCommitRaceTests : IAsyncLifetime
{
    private const string Topic = "orders";
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-race-").FullName;
    private PipelinesHost? _host;
    private Uri CatalogUri => new(_host!.Client.BaseAddress!, "iceberg");

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly SinkDefinition Sink = SinkDefinition.Parse(
        JsonDocument.Parse("""{"name": "orders_table", "type": "iceberg", "namespace": "shop", "table": "orders"}""").RootElement, DateTimeOffset.UtcNow);

    private static readonly Schema Output = new([new NestedField(1, "id", true, PrimitiveType.Long)]);

    private static KafkaOffsets Offsets(params (int Partition, long Start, long End, bool Fresh)[] partitions) =>
        new(Topic, 4, partitions.ToDictionary(p => p.Partition, p => (p.Start, p.End)), partitions.Where(p => p.Fresh).Select(p => p.Partition).ToHashSet());

    private static Task<SinkCommit> CommitAsync(IcebergTableTarget target, KafkaOffsets offsets, SinkCommit? previous) =>
        target.CommitAsync([], "orders", offsets.StartTotal, offsets.EndTotal, null, previous, CancellationToken.None, offsets);

    [Fact]
    public async Task A_commit_that_lost_the_race_to_another_workers_partitions_is_made_again_on_the_new_snapshot()
    {
        using var catalogB = await RemoteCatalog.OpenAsync(CatalogUri);
        var b = new IcebergTableTarget(catalogB, Sink, Output);
        Assert.Null(await b.LastCommitAsync(CancellationToken.None)); // creates the table
        using var catalogA = await RacedCatalog.OpenAsync(CatalogUri, ObjectStore.Open(Path.Combine(_dir, "warehouse")));
        var a = new IcebergTableTarget(catalogA, Sink, Output);
        Assert.Null(await a.LastCommitAsync(CancellationToken.None));

        // Worker B commits partitions 2 and 3 right before A's commit of 0 and 1 reaches the catalog.
        catalogA.Before = () => CommitAsync(b, Offsets((2, 0, 30, true), (3, 0, 40, true)), null);
        var committed = await CommitAsync(a, Offsets((0, 0, 10, true), (1, 0, 20, true)), null);

        Assert.Equal(2, catalogA.Attempts); // the first was refused (409: main moved), the second landed
        var table = await catalogB.LoadTableAsync(new TableIdentifier(["shop"], "orders"));
        Assert.Equal(committed.Id, table.Metadata.CurrentSnapshotId);
        Assert.Equal(2, table.Metadata.Snapshots.Count); // B's and A's, no other
        var positions = (await b.LastCommitAsync(CancellationToken.None))!.Kafka!;
        Assert.Equal(new Dictionary<int, long> { [0] = 10, [1] = 20, [2] = 30, [3] = 40 }, positions.Partitions.ToDictionary(p => p.Key, p => p.Value.End));
    }

    [Fact]
    public async Task A_commit_of_a_partition_another_worker_committed_while_it_raced_is_refused_after_the_409()
    {
        using var catalogB = await RemoteCatalog.OpenAsync(CatalogUri);
        var b = new IcebergTableTarget(catalogB, Sink, Output);
        await b.LastCommitAsync(CancellationToken.None);
        using var catalogA = await RacedCatalog.OpenAsync(CatalogUri, ObjectStore.Open(Path.Combine(_dir, "warehouse")));
        var a = new IcebergTableTarget(catalogA, Sink, Output);
        await a.LastCommitAsync(CancellationToken.None);
        var first = await CommitAsync(a, Offsets((0, 0, 10, true), (1, 0, 20, true)), null);
        Assert.Equal(1, catalogA.Attempts);

        // A rebalance gave partition 0 to worker B, which committed it from where A's commit left it, while A (not yet
        // told) commits 0 and 1 on: A's check passed on the snapshot it read, its commit meets B's on the catalog.
        catalogA.Before = async () => await CommitAsync(b, Offsets((0, 10, 15, false)), await b.LastCommitAsync(CancellationToken.None));
        var refused = await Assert.ThrowsAsync<SinkRolledBackException>(() => CommitAsync(a, Offsets((0, 10, 25, false), (1, 20, 30, false)), first));

        Assert.Contains("partition 0", refused.Message);
        Assert.Contains("offset 15", refused.Message);
        Assert.Equal(2, catalogA.Attempts); // the first commit and the raced one (409); none after the check refused it
        var table = await catalogB.LoadTableAsync(new TableIdentifier(["shop"], "orders"));
        Assert.Equal(2, table.Metadata.Snapshots.Count); // A's first and B's, not A's second
        var positions = (await b.LastCommitAsync(CancellationToken.None))!.Kafka!;
        Assert.Equal(new Dictionary<int, long> { [0] = 15, [1] = 20 }, positions.Partitions.ToDictionary(p => p.Key, p => p.Value.End));
    }

    /// <summary>A REST catalog whose tables run <see cref="Before"/> (once) right before a commit goes to the catalog, and count the commits sent.</summary>
    private sealed class RacedCatalog(RemoteCatalog inner, IcebergRestClient client, IObjectStore warehouse) : ICatalog
    {
        public Func<Task>? Before { get; set; }
        public int Attempts { get; private set; }

        public static async Task<RacedCatalog> OpenAsync(Uri uri, IObjectStore warehouse)
        {
            var client = new IcebergRestClient(uri);
            await client.InitializeAsync();
            return new RacedCatalog(await RemoteCatalog.OpenAsync(uri), client, warehouse);
        }

        public async Task<Table?> TryLoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default) =>
            await inner.TryLoadTableAsync(id, cancellationToken) is null ? null
                : await Table.LoadAsync(warehouse, new Committer(this, new RestTableCommitter(client, id.Namespace, id.Name)), cancellationToken);

        public Task<IReadOnlyList<IReadOnlyList<string>>> ListNamespacesAsync(IReadOnlyList<string>? parent = null, CancellationToken cancellationToken = default) =>
            inner.ListNamespacesAsync(parent, cancellationToken);
        public Task<bool> CreateNamespaceIfMissingAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default) => inner.CreateNamespaceIfMissingAsync(ns, cancellationToken);
        public Task<IReadOnlyList<TableIdentifier>> ListTablesAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default) => inner.ListTablesAsync(ns, cancellationToken);
        public Task<Table> CreateTableAsync(TableIdentifier id, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
            IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The test creates the table through the other worker.");
        public Task<bool> DropTableAsync(TableIdentifier id, bool purge = false, CancellationToken cancellationToken = default) => inner.DropTableAsync(id, purge, cancellationToken);

        public void Dispose()
        {
            inner.Dispose();
            client.Dispose();
        }

        private sealed class Committer(RacedCatalog catalog, ITableCommitter inner) : ITableCommitter
        {
            public Task<TableState?> LoadAsync(CancellationToken cancellationToken = default) => inner.LoadAsync(cancellationToken);

            public async Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default)
            {
                if (catalog.Before is { } before)
                {
                    catalog.Before = null;
                    await before();
                }
                catalog.Attempts++;
                return await inner.CommitAsync(commit, cancellationToken);
            }
        }
    }
}
