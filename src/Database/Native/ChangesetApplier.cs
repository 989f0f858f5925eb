using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DataPlane.Database.Native;

/// <summary>Applies a changeset captured on the primary to a replica's connection.</summary>
internal static unsafe class ChangesetApplier
{
    /// <summary>
    /// Replication is deterministic, so any conflict means this copy diverged from the primary:
    /// the apply aborts and the replica re-bootstraps from a snapshot rather than guessing.
    /// </summary>
    public static void Apply(nint db, byte[] changeset)
    {
        int rc;
        fixed (byte* data = changeset)
        {
            rc = SqliteSessionNative.ChangesetApply(db, changeset.Length, data, null, &OnConflict, 0);
        }
        if (rc != SqliteSessionNative.SQLITE_OK)
            throw new ReplicaDivergedException($"sqlite3changeset_apply failed with SQLite result code {rc}: the replica no longer matches the primary.");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnConflict(nint context, int conflict, nint iterator) => SqliteSessionNative.ChangesetAbort;
}
