namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// How a lookup join reads a DataPlane database's table (<c>db.&lt;name&gt;.&lt;table&gt;</c>): provided by the host
/// that holds the databases, so the pipelines need not know them. Without one, such lookups are refused.
/// </summary>
public interface IDatabaseReader
{
    /// <summary>The newest position of the database's log as a bookmark: a read at or past it sees every commit made so far. A <see cref="KeyNotFoundException"/> for a database that does not exist.</summary>
    Task<string> LatestBookmarkAsync(string database, CancellationToken cancellationToken);

    /// <summary>
    /// One read-only statement, served by a replica at or past <paramref name="bookmark"/> (or by the primary when none
    /// is): the rows, and the bookmark of the state it read. An <see cref="ArgumentException"/> for a statement the database refuses.
    /// </summary>
    Task<DatabaseRead> ReadAsync(string database, string sql, string bookmark, CancellationToken cancellationToken);
}

/// <summary>What <see cref="IDatabaseReader.ReadAsync"/> answers: the columns, the rows (SQLite's values: long, double, string, byte[] or null), the bookmark of the state read and which copy served it.</summary>
public sealed record DatabaseRead(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, string Bookmark, string ServedBy);
