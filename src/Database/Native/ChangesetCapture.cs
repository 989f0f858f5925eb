using System.Runtime.InteropServices;

namespace DataPlane.Database.Native;

/// <summary>
/// A session on the "main" schema recording every row change (rowid tables included) until disposed.
/// </summary>
internal sealed unsafe class ChangesetCapture : IDisposable
{
    private nint _session;

    public ChangesetCapture(nint db)
    {
        Check(SqliteSessionNative.SessionCreate(db, "main", out _session), "sqlite3session_create");
        // Without this, tables lacking an explicit PRIMARY KEY are silently left out of the changeset.
        int rowId = 1;
        Check(SqliteSessionNative.SessionObjectConfig(_session, SqliteSessionNative.SessionObjConfigRowId, &rowId),
            "sqlite3session_object_config(ROWID)");
        Check(SqliteSessionNative.SessionAttach(_session, 0), "sqlite3session_attach");
    }

    /// <summary>The changes recorded so far, or null when nothing changed.</summary>
    public byte[]? TakeChangeset()
    {
        if (SqliteSessionNative.SessionIsEmpty(_session) != 0) return null;
        Check(SqliteSessionNative.SessionChangeset(_session, out int size, out nint buffer), "sqlite3session_changeset");
        try
        {
            if (size == 0) return null;
            var bytes = new byte[size];
            Marshal.Copy(buffer, bytes, 0, size);
            return bytes;
        }
        finally
        {
            SqliteSessionNative.Free(buffer);
        }
    }

    public void Dispose()
    {
        if (_session != 0)
        {
            SqliteSessionNative.SessionDelete(_session);
            _session = 0;
        }
    }

    private void Check(int rc, string call)
    {
        if (rc == SqliteSessionNative.SQLITE_OK) return;
        Dispose();
        throw new InvalidOperationException($"{call} failed with SQLite result code {rc}.");
    }
}
