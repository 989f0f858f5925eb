using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;

namespace DataPlane.Iceberg.Catalogs;

/// <summary>
/// A catalog of Iceberg tables, whichever holds it: DataPlane's own, opened in this process, or any Iceberg REST
/// catalog over HTTP. The tables it hands out commit through it (<see cref="ITableCommitter"/>), so code written
/// against this interface (the command line, and later the sinks, maintenance and lookup joins) works on either.
/// Refusals are <see cref="CatalogException"/>s named with the REST protocol's exception types.
/// </summary>
public interface ICatalog : IDisposable
{
    /// <summary>The namespaces directly under <paramref name="parent"/> (top level when null).</summary>
    Task<IReadOnlyList<IReadOnlyList<string>>> ListNamespacesAsync(IReadOnlyList<string>? parent = null, CancellationToken cancellationToken = default);

    /// <summary>Creates the namespace, and any missing parent of it; false when it already existed.</summary>
    Task<bool> CreateNamespaceIfMissingAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default);

    /// <summary>The tables of a namespace.</summary>
    Task<IReadOnlyList<TableIdentifier>> ListTablesAsync(IReadOnlyList<string> ns, CancellationToken cancellationToken = default);

    /// <summary>Creates an empty table in an existing namespace; a table of that name is an <c>AlreadyExistsException</c>.</summary>
    Task<Table> CreateTableAsync(TableIdentifier id, Schema schema, PartitionSpec? spec = null, SortOrder? sortOrder = null,
        IReadOnlyDictionary<string, string>? properties = null, CancellationToken cancellationToken = default);

    /// <summary>The table at its current metadata, or null when there is none of that name.</summary>
    Task<Table?> TryLoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default);

    /// <summary>The table at its current metadata; a <c>NoSuchTableException</c> when absent.</summary>
    async Task<Table> LoadTableAsync(TableIdentifier id, CancellationToken cancellationToken = default) =>
        await TryLoadTableAsync(id, cancellationToken) ?? throw CatalogException.NoSuchTable(id.ToString());

    /// <summary>Removes the table (with <paramref name="purge"/> its files too); false when absent.</summary>
    Task<bool> DropTableAsync(TableIdentifier id, bool purge = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes when this catalog next lands a commit on any table (whoever sent it), so a caller waiting for a table to
    /// reach some state looks again then rather than on a timer; null when the catalog cannot tell (one over HTTP).
    /// Take it before looking at the table, so a commit in between is not missed.
    /// </summary>
    Task? NextCommit => null;
}
