using DataPlane.Database.Execution;
using DataPlane.Database.Hosting;
using DataPlane.Database.Sessions;
using DataPlane.Pipelines.Lookups;

namespace DataPlane.Hosting;

/// <summary>
/// What a pipeline's lookup join of <c>db.&lt;name&gt;.&lt;table&gt;</c> reads through: this process's databases, read
/// as a session with a bookmark is (a replica at or past it, else the primary), read-only.
/// </summary>
internal sealed class DatabaseLookupReader(DatabaseCatalog databases) : IDatabaseReader
{
    public async Task<string> LatestBookmarkAsync(string database, CancellationToken cancellationToken)
    {
        try
        {
            return Bookmark.Format(await databases.PositionAsync(database, cancellationToken));
        }
        catch (DatabaseException e) when (e.Kind == DatabaseErrorKind.NotFound)
        {
            throw new KeyNotFoundException($"No database '{database}' (JOIN db.{database}...): {e.Message}", e);
        }
    }

    public async Task<DatabaseRead> ReadAsync(string database, string sql, string bookmark, CancellationToken cancellationToken)
    {
        QueryResult result;
        try
        {
            result = await databases.ReadAsync(database, [new SqlStatement(sql)], SessionConstraint.Parse(bookmark), cancellationToken);
        }
        catch (DatabaseException e) when (e.Kind == DatabaseErrorKind.NotFound)
        {
            throw new KeyNotFoundException(e.Message, e);
        }
        catch (DatabaseException e) when (e.Kind is DatabaseErrorKind.BadRequest or DatabaseErrorKind.Forbidden)
        {
            throw new ArgumentException($"Database '{database}' refused the lookup's read: {e.Message}", e);
        }
        var statement = result.Results[0];
        return new DatabaseRead(statement.Columns, statement.Rows, Bookmark.Format(result.Position), result.ServedBy);
    }
}
