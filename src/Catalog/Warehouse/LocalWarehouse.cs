using DataPlane.Catalog.Operations;
using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Schemas;
using DataPlane.Catalog.Sorting;
using DataPlane.Storage;

namespace DataPlane.Catalog.Warehouse;

/// <summary>
/// A catalog that is just a folder: namespaces are folders and a table <c>ns.name</c> lives at
/// <c>&lt;warehouse&gt;/ns/name</c>, committed with <see cref="FileTableCommitter"/>. Used by the CLI on the
/// embedded default; the REST catalog is the shared one.
/// </summary>
public sealed class LocalWarehouse : IDisposable
{
    private readonly IObjectStore _store;

    public LocalWarehouse(string path)
    {
        Directory.CreateDirectory(path);
        _store = ObjectStore.Open(Path.GetFullPath(path));
    }

    public IObjectStore Store => _store;

    /// <summary>The store key of a table: <c>db.events</c> becomes <c>db/events</c>.</summary>
    public static string TableKey(string identifier)
    {
        var parts = identifier.Split('.');
        if (parts.Length < 2 || parts.Any(p => p.Length == 0 || p.Contains('/') || p is "." or ".."))
            throw new ArgumentException($"Table name '{identifier}' must be namespace.table (e.g. db.events), with non-empty parts and no '/'.");
        return string.Join('/', parts);
    }

    public async Task<bool> ExistsAsync(string identifier, CancellationToken cancellationToken = default) =>
        await new FileTableCommitter(_store, TableKey(identifier)).LoadAsync(cancellationToken).ConfigureAwait(false) is not null;

    public async Task<Table> CreateTableAsync(string identifier, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
        IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default)
    {
        var key = TableKey(identifier);
        var committer = new FileTableCommitter(_store, key);
        if (await committer.LoadAsync(cancellationToken).ConfigureAwait(false) is not null)
            throw new InvalidOperationException($"Table '{identifier}' already exists at {committer.TableLocation}.");
        try
        {
            return await Table.CreateAsync(_store, committer, committer.TableLocation, schema, spec, sortOrder, properties, cancellationToken).ConfigureAwait(false);
        }
        catch (Metadata.CommitFailedException)
        {
            throw new InvalidOperationException($"Table '{identifier}' was created concurrently at {committer.TableLocation}.");
        }
    }

    public async Task<Table> LoadTableAsync(string identifier, CancellationToken cancellationToken = default)
    {
        var committer = new FileTableCommitter(_store, TableKey(identifier));
        var state = await committer.LoadAsync(cancellationToken).ConfigureAwait(false);
        if (state is null) throw new InvalidOperationException($"No table '{identifier}' in the warehouse {_store.Location} (looked in {committer.TableLocation}/metadata).");
        return await Table.LoadAsync(_store, committer, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _store.Dispose();
}
