using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// Deletes a dropped table's files (drop with <c>purgeRequested</c>): exactly the files its metadata references
/// (<see cref="ReferencedFiles"/>), never what a listing of its folder finds, and of those only the ones in the
/// warehouse that no other table can be using. Another table whose location holds a file (a table registered from the
/// same metadata, or one created inside or around this one before the catalog refused such locations) keeps every
/// file its own metadata references; when its references cannot all be read, everything under its location is kept.
/// </summary>
internal sealed class TablePurge(CatalogStore store, MetadataFiles files, TableLocations locations, IObjectStore warehouse)
{
    public sealed record Result(int Deleted, int Kept, IReadOnlyList<string> Unreadable);

    /// <summary>Purges the files of <paramref name="metadata"/>, read from <paramref name="metadataLocation"/>; the table must already be dropped from the store.</summary>
    public async Task<Result> RunAsync(TableMetadata metadata, string metadataLocation, CancellationToken cancellationToken)
    {
        var io = new TableIO(warehouse);
        var referenced = await ReferencedFiles.ReadAsync(io, metadata, metadataLocation, cancellationToken);
        var keys = new List<string>();
        foreach (var location in referenced.Locations)
            if (WarehouseKey(io, location) is { } key) keys.Add(key);

        var (keep, keepUnder) = await OtherTablesFilesAsync(io, keys, cancellationToken);
        var deleted = 0;
        foreach (var key in keys)
        {
            if (keep.Contains(key) || keepUnder.Any(folder => key.StartsWith(folder, StringComparison.Ordinal))) continue;
            // Safe: the dropped table's metadata references this file, it is inside the warehouse, and no table whose
            // location holds it references it (nor could have its references missed).
            await warehouse.DeleteAsync(key, cancellationToken);
            deleted++;
        }
        files.Cache.Forget(metadataLocation);
        return new Result(deleted, referenced.Locations.Count - deleted, referenced.Unreadable);
    }

    /// <summary>The files referenced by the tables whose location holds one of <paramref name="keys"/>, and the folders of those whose references could not all be read.</summary>
    private async Task<(HashSet<string> Keep, List<string> KeepUnder)> OtherTablesFilesAsync(TableIO io, List<string> keys, CancellationToken cancellationToken)
    {
        await locations.FillMissingAsync(cancellationToken);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
            for (var slash = key.LastIndexOf('/'); slash > 0 && folders.Add(files.WarehouseUri + "/" + key[..slash]); slash = key.LastIndexOf('/', slash - 1))
            {
            }
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var keepUnder = new List<string>();
        foreach (var (_, _, metadataLocation, location) in store.TablesAt(folders))
        {
            try
            {
                var file = await files.ReadFileAsync(metadataLocation, cancellationToken);
                var theirs = await ReferencedFiles.ReadAsync(io, file.Table, metadataLocation, cancellationToken);
                foreach (var l in theirs.Locations)
                    if (WarehouseKey(io, l) is { } key) keep.Add(key);
                if (theirs.Unreadable.Count == 0) continue;
            }
            catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
            {
            }
            keepUnder.Add(location[(files.WarehouseUri.Length + 1)..] + "/");
        }
        return (keep, keepUnder);
    }

    /// <summary>The key of a location inside the warehouse, as the table library reads it; null for anything else, which is never deleted.</summary>
    private string? WarehouseKey(TableIO io, string location)
    {
        if (!files.InWarehouse(location)) return null;
        try
        {
            return ObjectKey.Validate(io.KeyOf(location));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
