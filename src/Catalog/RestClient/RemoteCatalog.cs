using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Storage;

namespace DataPlane.Catalog.RestClient;

/// <summary>
/// Any Iceberg REST catalog (DataPlane's <c>/iceberg</c>, Polaris, Nessie, R2 Data Catalog...) as an
/// <see cref="ICatalog"/>: tables are loaded with vended credentials when the catalog gives them, their files read and
/// written with those (or the <c>AWS_*</c> environment), and their commits sent as requirements and updates
/// (<see cref="RestTableCommitter"/>). The catalog's error answers become <see cref="CatalogException"/>s of the same type.
/// </summary>
public sealed class RemoteCatalog : ICatalog
{
    private readonly IcebergRestClient _client;
    private readonly S3Options? _storage;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private volatile bool _connected;
    // One store per location and keys, kept for the catalog's life: a table is loaded again for every commit and every
    // maintenance check, and an S3 store holds its connections (a store per load would leak one each time).
    private readonly ConcurrentDictionary<StoreKey, IObjectStore> _stores = new();

    private sealed record StoreKey(string Location, S3Options? S3);

    private RemoteCatalog(IcebergRestClient client, S3Options? storage = null, bool connected = true)
    {
        _client = client;
        _storage = storage;
        _connected = connected;
    }

    /// <summary>
    /// The catalog at <paramref name="uri"/>, reached at the first call rather than now (a worker starts before, or while,
    /// the catalog process is away): a call that cannot reach it fails, and the next one tries again.
    /// </summary>
    /// <param name="storage">The S3 endpoint and keys this process reaches the catalog's warehouse with, used for the tables'
    /// files in <c>s3://</c> over what the catalog's answer says (its endpoint is the one readers are told) and the <c>AWS_*</c>
    /// environment: <c>dataplane serve --role worker</c> shares the catalog process's warehouse with its own settings.</param>
    public static RemoteCatalog Connect(Uri uri, string? token = null, S3Options? storage = null) =>
        new(new IcebergRestClient(uri, token: token), storage, connected: false);

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connected) return;
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (!_connected)
            {
                await _client.InitializeAsync(cancellationToken);
                _connected = true;
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Connects to the catalog at <paramref name="uri"/> (its <c>/v1/config</c> is read first).</summary>
    public static async Task<RemoteCatalog> OpenAsync(Uri uri, string? token = null, CancellationToken cancellationToken = default)
    {
        var client = new IcebergRestClient(uri, token: token);
        try
        {
            await client.InitializeAsync(cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new RemoteCatalog(client);
    }

    public Task<IReadOnlyList<IReadOnlyList<string>>> ListNamespacesAsync(IReadOnlyList<string>? parent = null, CancellationToken cancellationToken = default) =>
        Refusals<IReadOnlyList<IReadOnlyList<string>>>(async () => await _client.ListNamespacesAsync(parent, cancellationToken));

    public Task<bool> CreateNamespaceIfMissingAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default) => Refusals(async () =>
    {
        var created = false;
        for (var depth = 1; depth <= ns.Count; depth++)
        {
            try
            {
                await _client.CreateNamespaceAsync(ns.Take(depth).ToList(), cancellationToken: cancellationToken);
                created = true;
            }
            catch (RestCatalogException e) when (e.IsAlreadyExists)
            {
                created = false;
            }
        }
        return created;
    });

    public Task<IReadOnlyList<TableIdentifier>> ListTablesAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default) =>
        Refusals<IReadOnlyList<TableIdentifier>>(async () =>
            (await _client.ListTablesAsync(ns, cancellationToken)).Select(name => new TableIdentifier(ns, name)).ToList());

    public Task<Table> CreateTableAsync(TableIdentifier id, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
        IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default) => Refusals(async () =>
    {
        var request = new JsonObject
        {
            ["name"] = id.Name,
            ["schema"] = JsonNode.Parse(schema.ToJson()),
            ["properties"] = new JsonObject((properties ?? new Dictionary<string, string>()).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        };
        if (spec is not null) request["partition-spec"] = JsonNode.Parse(spec.ToJson());
        if (sortOrder is not null) request["write-order"] = JsonNode.Parse(sortOrder.ToJson());
        var created = await _client.CreateTableAsync(id.Namespace, request, cancellationToken);
        try
        {
            return await LoadAsync(id, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            // No keys for its files: the table exists all the same, and says so.
            throw new InvalidOperationException($"Table {id} was created at {created.Location}, but cannot be opened here: {e.Message}", e);
        }
    });

    public Task<Table?> TryLoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default) => Refusals<Table?>(async () =>
    {
        try
        {
            return await LoadAsync(id, cancellationToken);
        }
        catch (RestCatalogException e) when (e.Type is "NoSuchTableException" or "NoSuchNamespaceException")
        {
            return null;
        }
    });

    /// <summary>The table; the catalog's own refusal when absent (<c>NoSuchTableException</c>, or <c>NoSuchNamespaceException</c>).</summary>
    public Task<Table> LoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default) =>
        Refusals(() => LoadAsync(id, cancellationToken));

    public Task<bool> DropTableAsync(TableIdentifier id, bool purge = false, CancellationToken cancellationToken = default) => Refusals(async () =>
    {
        try
        {
            await _client.DropTableAsync(id.Namespace, id.Name, purge, cancellationToken);
            return true;
        }
        catch (RestCatalogException e) when (e.Type is "NoSuchTableException" or "NoSuchNamespaceException")
        {
            return false;
        }
    });

    public void Dispose()
    {
        _client.Dispose();
        _connecting.Dispose();
        foreach (var store in _stores.Values)
            store.Dispose();
        _stores.Clear();
    }

    private async Task<Table> LoadAsync(TableIdentifier id, CancellationToken cancellationToken)
    {
        // The catalog's answer says where the files are and how to reach them (S3 endpoint, vended keys).
        var loaded = await _client.LoadTableAsync(id.Namespace, id.Name, vendedCredentials: true, cancellationToken);
        return await Table.LoadAsync(TableStore(loaded), new RestTableCommitter(_client, id.Namespace, id.Name), cancellationToken);
    }

    private async Task<T> Refusals<T>(Func<Task<T>> call)
    {
        try
        {
            await ConnectAsync(CancellationToken.None);
            return await call();
        }
        catch (RestCatalogException e)
        {
            throw new CatalogException(e.Type, e.ServerMessage);
        }
    }

    /// <summary>
    /// A store over the folder that holds the table's location, so the table's own folder is a key in it (its files are
    /// written under <c>&lt;table&gt;/data</c> and <c>&lt;table&gt;/metadata</c>) and every file it names is reachable.
    /// </summary>
    private IObjectStore TableStore(LoadedTable loaded)
    {
        var tableLocation = loaded.Location.TrimEnd('/');
        int slash = tableLocation.LastIndexOf('/');
        var location = slash > "s3://".Length ? tableLocation[..slash] : tableLocation;
        var key = new StoreKey(location, location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? _storage ?? S3Options(loaded, tableLocation) : null);
        if (_stores.TryGetValue(key, out var store))
            return store;
        store = key.S3 is null ? ObjectStore.Open(location) : ObjectStore.Open(location, key.S3);
        if (_stores.TryAdd(key, store))
            return store;
        store.Dispose(); // another load opened the same one first
        return _stores[key];
    }

    private static S3Options S3Options(LoadedTable loaded, string tableLocation)
    {
        string? Config(string key) => loaded.Config.TryGetValue(key, out var v) ? v : null;
        var accessKey = Config("s3.access-key-id") ?? Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secretKey = Config("s3.secret-access-key") ?? Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
            throw new InvalidOperationException(
                $"The table's files are at {tableLocation} and the catalog vended no keys for them: set AWS_ACCESS_KEY_ID and " +
                "AWS_SECRET_ACCESS_KEY to keys that may read them.");
        return new S3Options
        {
            Endpoint = Config("s3.endpoint"),
            Region = Config("s3.region") ?? Config("client.region") ?? "us-east-1",
            PathStyle = Config("s3.path-style-access") != "false",
            AccessKey = accessKey,
            SecretKey = secretKey,
            // Temporary keys come with their token; long-term keys from the environment need none.
            SessionToken = Config("s3.session-token") ?? (Config("s3.access-key-id") is null ? Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN") : null),
        };
    }

}
