using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Rest.Http;

namespace DataPlane.Catalog.Store;

/// <summary>
/// The tables' locations as the store keeps them, checked before a table is created, registered or moved: no table
/// may be at, inside or around another's location, nor hold a namespace's folder. The store checks again in the
/// transaction that creates or moves the table, so two concurrent requests cannot both take overlapping places.
/// </summary>
internal sealed class TableLocations(CatalogStore store, MetadataFiles files)
{
    /// <summary>Refuses a location that overlaps another table's (409 for a create or register, 400 for a commit that moves the table).</summary>
    public async Task CheckFreeAsync(TableLocation location, Namespace ns, string name, bool create, CancellationToken cancellationToken)
    {
        await FillMissingAsync(cancellationToken);
        if (store.FindLocationUse(location, ns, name) is { } use) throw location.Taken(use, create);
    }

    /// <summary>
    /// Records, from their metadata files, the locations of tables the store has none for: those of a catalog written
    /// before locations were kept (a no-op after the first call). A table whose file cannot be read stays unknown.
    /// </summary>
    public async Task FillMissingAsync(CancellationToken cancellationToken)
    {
        foreach (var (ns, name, metadataLocation) in store.TablesWithoutLocation())
        {
            string location;
            try
            {
                location = (await files.ReadFileAsync(metadataLocation, cancellationToken)).TableLocation;
            }
            catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
            {
                continue;
            }
            store.SetLocation(ns, name, metadataLocation, files.Comparable(location));
        }
    }
}
