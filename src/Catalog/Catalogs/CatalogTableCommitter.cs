using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Catalog.Rest.Commits;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Rest.Store;

namespace DataPlane.Catalog.Catalogs;

/// <summary>
/// Commits of one table of <see cref="IcebergCatalog"/>: the next metadata file is written to the warehouse, then
/// the table's row in the catalog's SQLite store is swapped from the expected location to it, exactly as the REST
/// service's commits do. The swap is what decides between writers (in this process, in <c>dataplane serve</c>, or
/// behind the REST endpoint); the loser gets <see cref="CommitFailedException"/> and the table library retries on
/// fresh metadata.
/// </summary>
internal sealed class CatalogTableCommitter(CatalogStore store, MetadataFiles files, TableLocations locations, Namespace ns, string name) : ITableCommitter
{
    public async Task<TableState?> LoadAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var location = store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name);
            if (location is null) return null;
            var file = await files.ReadFileAsync(location, cancellationToken).ConfigureAwait(false);
            return new TableState(file.Table, location);
        }
        catch (RestException e)
        {
            throw IcebergCatalog.Refusal(e);
        }
    }

    public async Task<TableState> CommitAsync(TableState? expected, TableMetadata updated, CancellationToken cancellationToken = default)
    {
        TableLocation? moved = null;
        string location;
        try
        {
            if (expected is null || expected.Metadata.Location != updated.Location)
            {
                moved = files.ToTableLocation(updated.Location);
                await locations.CheckFreeAsync(moved, ns, name, create: expected is null, cancellationToken).ConfigureAwait(false);
            }
            location = (await files.WriteFileAsync(updated.Location, expected?.MetadataLocation, TableMetadataJson.WriteUtf8(updated), updated, cancellationToken).ConfigureAwait(false)).Location;
        }
        catch (RestException e)
        {
            throw IcebergCatalog.Refusal(e);
        }
        bool swapped;
        try
        {
            swapped = store.TrySwap(CatalogObjectKind.Table, [new MetadataSwap(ns, name, expected?.MetadataLocation, location, moved)]) < 0;
        }
        catch (RestException e)
        {
            // Safe to delete: the swap was refused before it applied, so nothing references the fresh file.
            await files.DeleteUnreferencedAsync(location).ConfigureAwait(false);
            // A name taken meanwhile is a lost race (the table library reloads and finds it); a location taken meanwhile
            // is refused again by the check above on the retry, with its reason.
            if (e.Type == "AlreadyExistsException")
                throw new CommitFailedException($"Table {ns.Qualify(name)} was created concurrently: {e.Message}");
            throw IcebergCatalog.Refusal(e);
        }
        if (swapped) return new TableState(updated, location);
        // Safe to delete: the swap lost, so the table never moved to this fresh file.
        await files.DeleteUnreferencedAsync(location).ConfigureAwait(false);
        throw new CommitFailedException(expected is null
            ? $"Table {ns.Qualify(name)} was created concurrently."
            : $"Table {ns.Qualify(name)} was changed by another writer: its metadata is no longer {expected.MetadataLocation}.");
    }
}
