using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Storage;

namespace DataPlane.Catalog.Catalogs;

/// <summary>
/// DataPlane's catalog for code running in-process (the pipelines' sinks, the CLI): the same SQLite store and
/// warehouse the Iceberg REST service serves, so a table created or committed here is listed and loaded by Spark,
/// DuckDB or PyIceberg through <c>/iceberg/v1</c>, and the other way round. Under <c>dataplane serve</c> it is the
/// singleton registered by <see cref="RestCatalogHosting.AddIcebergRestCatalog"/>, and the REST service is built on
/// it: one store, one metadata cache, one commit engine; elsewhere it opens the same files from
/// <see cref="RestCatalogOptions"/> (SQLite arbitrates between processes).
/// Refusals are <see cref="CatalogException"/>s named as the REST protocol names them.
/// </summary>
public sealed class IcebergCatalog : ICatalog
{
    /// <summary>Opens the catalog files of <paramref name="options"/> (the SQLite file and the warehouse).</summary>
    public IcebergCatalog(RestCatalogOptions options, TimeProvider? time = null)
    {
        Store = new CatalogStore(options.DatabasePath);
        Warehouse = ObjectStore.Open(options.WarehouseLocation, options.S3);
        Time = time ?? TimeProvider.System;
        Files = new MetadataFiles(Warehouse, options.MetadataCacheBytes);
        Locations = new TableLocations(Store, Files);
        Purge = new TablePurge(Store, Files, Locations, Warehouse);
        Committer = new TableCommitter(Store, Files, Locations, Time);
    }

    /// <summary>Where tables live; data files of a table go under its location in here.</summary>
    public IObjectStore Warehouse { get; }

    internal CatalogStore Store { get; }
    internal TimeProvider Time { get; }
    internal MetadataFiles Files { get; }
    internal TableLocations Locations { get; }
    internal TablePurge Purge { get; }

    /// <summary>The one commit engine of this catalog: the REST service's commits and this process's table commits
    /// are grouped per table here.</summary>
    internal TableCommitter Committer { get; }

    /// <inheritdoc/>
    public Task? NextCommit => Committer.NextCommit;

    public bool NamespaceExists(IReadOnlyList<string> ns) => Store.NamespaceExists(new Namespace(ns));

    /// <summary>Creates the namespace, and any missing parent of it; false when it already existed.</summary>
    public bool CreateNamespaceIfMissing(IReadOnlyList<string> ns, IReadOnlyDictionary<string, string>? properties = null)
    {
        var created = false;
        for (var depth = 1; depth <= ns.Count; depth++)
            created = Store.CreateNamespace(Namespace.ForCreate(ns.Take(depth).ToList()),
                depth == ns.Count ? properties ?? new Dictionary<string, string>() : new Dictionary<string, string>());
        return created;
    }

    /// <summary>The namespaces directly under <paramref name="parent"/> (top level when null), in name order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> ListNamespaces(IReadOnlyList<string>? parent = null) =>
        Store.ListNamespaces(parent is null ? null : new Namespace(parent), null, int.MaxValue)
            .Select(key => (IReadOnlyList<string>)Namespace.FromKey(key).Levels).ToList();

    /// <summary>The tables of a namespace, in name order.</summary>
    public IReadOnlyList<TableIdentifier> ListTables(IReadOnlyList<string> ns) =>
        Store.ListNames(CatalogObjectKind.Table, new Namespace(ns), null, int.MaxValue).Select(name => new TableIdentifier(ns, name)).ToList();

    public bool TableExists(TableIdentifier id) =>
        Store.LoadMetadataLocation(CatalogObjectKind.Table, new Namespace(id.Namespace), id.Name) is not null;

    /// <summary>Creates an empty table at <c>&lt;warehouse&gt;/&lt;namespace levels&gt;/&lt;name&gt;</c>. The namespace must
    /// exist (<see cref="CreateNamespaceIfMissing"/>); a table or view of that name is an <c>AlreadyExistsException</c>.</summary>
    public async Task<Table> CreateTableAsync(TableIdentifier id, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
        IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default)
    {
        var (ns, committer) = CommitterOf(id);
        PathSegment.Check(id.Name, "table name");
        try
        {
            return await Table.CreateAsync(Warehouse, committer, Files.DefaultLocation(ns, id.Name), schema, spec, sortOrder, properties, cancellationToken);
        }
        catch (CommitFailedException)
        {
            throw new CatalogException("AlreadyExistsException", $"Table already exists: {id}");
        }
    }

    /// <summary>The table at its current metadata; a <c>NoSuchTableException</c> (or <c>NoSuchNamespaceException</c>) when absent.</summary>
    public async Task<Table> LoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default) =>
        await TryLoadTableAsync(id, cancellationToken) ?? throw Missing(id);

    /// <summary>The table, or null when there is none of that name.</summary>
    public async Task<Table?> TryLoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default)
    {
        var (_, committer) = CommitterOf(id);
        if (await committer.LoadAsync(cancellationToken) is null) return null;
        try
        {
            return await Table.LoadAsync(Warehouse, committer, cancellationToken);
        }
        catch (InvalidOperationException)
        {
            return null; // dropped between the two reads
        }
    }

    /// <summary>Removes the table from the catalog; with <paramref name="purge"/> also deletes the files its metadata
    /// references that no other table uses (<see cref="TablePurge"/>). False when absent.</summary>
    public async Task<bool> DropTableAsync(TableIdentifier id, bool purge = false, CancellationToken cancellationToken = default)
    {
        var (ns, committer) = CommitterOf(id);
        var state = purge ? await committer.LoadAsync(cancellationToken) : null;
        if (!Store.Drop(CatalogObjectKind.Table, ns, id.Name)) return false;
        if (state is not null)
            await Purge.RunAsync(state.Metadata, state.MetadataLocation, cancellationToken);
        return true;
    }

    public void Dispose() => Warehouse.Dispose();

    Task<IReadOnlyList<IReadOnlyList<string>>> ICatalog.ListNamespacesAsync(IReadOnlyList<string>? parent, CancellationToken cancellationToken) =>
        Task.FromResult(ListNamespaces(parent));

    Task<bool> ICatalog.CreateNamespaceIfMissingAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken) =>
        Task.FromResult(CreateNamespaceIfMissing(ns));

    Task<IReadOnlyList<TableIdentifier>> ICatalog.ListTablesAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken) =>
        Task.FromResult(ListTables(ns));

    private (Namespace, CatalogTableCommitter) CommitterOf(TableIdentifier id)
    {
        var ns = new Namespace(id.Namespace);
        return (ns, new CatalogTableCommitter(Store, Files, Committer, ns, id.Name));
    }

    private CatalogException Missing(TableIdentifier id) =>
        NamespaceExists(id.Namespace)
            ? new CatalogException("NoSuchTableException", $"Table does not exist: {id}")
            : new CatalogException("NoSuchNamespaceException", $"Namespace does not exist: {string.Join('.', id.Namespace)}");

}
