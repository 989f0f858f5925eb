using DataPlane.Catalog.Commits;
using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Catalog.Catalogs;

/// <summary>
/// Commits of one table of <see cref="IcebergCatalog"/> through the catalog's one commit engine, the
/// <see cref="TableCommitter"/> the REST service commits through too: the table library's updates join the table's
/// next commit group with every other writer's (a pipeline sink's append and a Spark client's property change land
/// in one metadata file), checked against the requirements they rest on. A create swaps whole metadata. The loser of a
/// race gets <see cref="CommitFailedException"/> and the table library retries on fresh metadata.
/// </summary>
internal sealed class CatalogTableCommitter(CatalogStore store, MetadataFiles files, TableCommitter committer, Namespace ns, string name) : ITableCommitter
{
    public async Task<TableState?> LoadAsync(CancellationToken cancellationToken = default)
    {
        var location = store.LoadMetadataLocation(CatalogObjectKind.Table, ns, name);
        if (location is null) return null;
        var file = await files.ReadFileAsync(location, cancellationToken);
        return new TableState(file.Table, location);
    }

    public async Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default)
    {
        var change = commit.Expected is not null && commit.Updates is not null
            ? new TableCommitter.Change(ns, name, commit.Requirements, commit.Updates)
            : new TableCommitter.Change(ns, name, commit.Expected is null ? [new TableRequirement.AssertCreate()] : [], [],
                (commit.Expected?.MetadataLocation, commit.Updated));
        TableCommitter.Committed committed;
        try
        {
            committed = await committer.CommitAsync(change);
        }
        catch (CatalogException e) when (e.IsCommitFailed || (commit.Expected is null && e.IsAlreadyExists))
        {
            // A name taken meanwhile is a lost race too: the table library reloads and finds the other table.
            throw new CommitFailedException(e.Message);
        }
        var file = await files.ReadFileAsync(committed.MetadataLocation, cancellationToken);
        return new TableState(file.Table, committed.MetadataLocation);
    }
}
