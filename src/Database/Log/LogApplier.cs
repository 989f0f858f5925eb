using System.Text;
using DataPlane.Database.Execution;
using DataPlane.Database.Native;

namespace DataPlane.Database.Log;

/// <summary>Replays log entries onto a copy of the database, inside one transaction per call.</summary>
internal static class LogApplier
{
    public const string MetaTable = "_dataplane_meta";

    public static void EnsureMeta(SqliteLink link)
    {
        link.Exec($"CREATE TABLE IF NOT EXISTS {MetaTable}(id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL)");
        link.Exec($"INSERT OR IGNORE INTO {MetaTable}(id, position) VALUES (1, 0)");
    }

    public static long ReadPosition(SqliteLink link) => link.ScalarInt64($"SELECT position FROM {MetaTable} WHERE id = 1");

    public static void WritePosition(SqliteLink link, long position) =>
        link.Exec($"UPDATE {MetaTable} SET position = {position} WHERE id = 1");

    public static void ApplyBatch(SqliteLink link, IReadOnlyList<LogEntry> entries)
    {
        link.Exec("BEGIN IMMEDIATE");
        link.Guard.Internal = true;
        try
        {
            foreach (var entry in entries) ApplyPieces(link, entry);
            WritePosition(link, entries[^1].Position);
            link.Exec("COMMIT");
        }
        catch
        {
            link.Exec("ROLLBACK");
            throw;
        }
        finally
        {
            link.Guard.Internal = false;
        }
    }

    private static void ApplyPieces(SqliteLink link, LogEntry entry)
    {
        foreach (var piece in LogPayload.Decode(entry.Payload))
        {
            if (piece.Kind == LogPieceKind.Changeset) ChangesetApplier.Apply(link.NativeHandle, piece.Bytes);
            else if (piece.Kind == LogPieceKind.Statement)
            {
                try
                {
                    link.Exec(Encoding.UTF8.GetString(piece.Bytes));
                }
                catch (InvalidOperationException e)
                {
                    throw new ReplicaDivergedException($"Schema statement at position {entry.Position} failed: {e.Message}");
                }
            }
            else throw new InvalidDataException($"Unknown log piece kind {piece.Kind} at position {entry.Position}.");
        }
    }
}
