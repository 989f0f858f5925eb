using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// Where a table's current metadata pointer lives, and the compare-and-swap that moves it. Implementations: the
/// file-system tables' <see cref="FileTableCommitter"/> (put-if-absent of a version-numbered file), DataPlane's
/// catalog (<c>CatalogTableCommitter</c>: a SQLite row updated only if its metadata location is still the expected
/// one) and any REST catalog (<see cref="RestClient.RestTableCommitter"/>).
/// </summary>
public interface ITableCommitter
{
    /// <summary>The current state, or null when the table does not exist.</summary>
    Task<TableState?> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes the commit's outcome current and returns the new state: <see cref="TableCommit.Updated"/> if
    /// <see cref="TableCommit.Expected"/> is still current (null: the table must not exist yet), or, by a catalog that
    /// applies changes, <see cref="TableCommit.Updates"/> on the table's current state if every one of
    /// <see cref="TableCommit.Requirements"/> holds there. Otherwise throws <see cref="CommitFailedException"/> and
    /// changes nothing.</summary>
    Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default);
}
