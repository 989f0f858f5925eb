using DataPlane.Database.Log;
using SQLitePCL;

namespace DataPlane.Database.Execution;

/// <summary>Runs a request in one read transaction, along with the log position of the state it reads.</summary>
internal static class ReadExecution
{
    /// <summary>
    /// The results, or null when a statement turns out to write (the caller sends it to the primary). The statements
    /// are stopped past <paramref name="timeout"/> or when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static List<StatementResult>? Run(SqliteLink link, IReadOnlyList<SqlStatement> statements, ResultBudget budget, TimeSpan timeout,
        CancellationToken cancellationToken, out long position)
    {
        link.Exec("BEGIN");
        try
        {
            // Read inside the same transaction, so the position names exactly the state the rows come from.
            position = LogApplier.ReadPosition(link);
            var results = new List<StatementResult>(statements.Count);
            bool writes = false;
            using (link.Limit(timeout, cancellationToken))
            {
                foreach (var statement in statements)
                {
                    link.ForEachStatement(statement.Sql, stmt =>
                    {
                        if (!SqliteLink.IsReadOnly(stmt))
                        {
                            writes = true;
                            return false;
                        }
                        results.Add(link.Run(stmt, statement, budget));
                        return true;
                    });
                    if (writes) return null;
                }
            }
            return results;
        }
        finally
        {
            // An interrupted statement may have ended the transaction already.
            if (raw.sqlite3_get_autocommit(link.Handle) == 0) link.Exec("COMMIT");
        }
    }
}
