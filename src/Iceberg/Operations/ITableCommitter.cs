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

    /// <summary>Writes <paramref name="updated"/> and makes it current if <paramref name="expected"/> is still current
    /// (null: the table must not exist yet); otherwise throws <see cref="CommitFailedException"/> and changes nothing.</summary>
    Task<TableState> CommitAsync(TableState? expected, TableMetadata updated, CancellationToken cancellationToken = default);
}
