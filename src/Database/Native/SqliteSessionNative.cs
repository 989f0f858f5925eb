using System.Runtime.InteropServices;

namespace DataPlane.Database.Native;

/// <summary>
/// The session extension functions exported by e_sqlite3; SQLitePCLRaw does not wrap them.
/// </summary>
internal static unsafe partial class SqliteSessionNative
{
    private const string Library = "e_sqlite3";

    internal const int SQLITE_OK = 0;
    internal const int SessionObjConfigRowId = 2;

    internal const int ChangesetData = 1;
    internal const int ChangesetNotFound = 2;
    internal const int ChangesetConflict = 3;
    internal const int ChangesetConstraint = 4;
    internal const int ChangesetForeignKey = 5;

    internal const int ChangesetOmit = 0;
    internal const int ChangesetAbort = 2;

    [LibraryImport(Library, EntryPoint = "sqlite3session_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SessionCreate(nint db, string schema, out nint session);

    [LibraryImport(Library, EntryPoint = "sqlite3session_attach")]
    internal static partial int SessionAttach(nint session, nint table);

    [LibraryImport(Library, EntryPoint = "sqlite3session_object_config")]
    internal static partial int SessionObjectConfig(nint session, int op, int* arg);

    [LibraryImport(Library, EntryPoint = "sqlite3session_isempty")]
    internal static partial int SessionIsEmpty(nint session);

    [LibraryImport(Library, EntryPoint = "sqlite3session_changeset")]
    internal static partial int SessionChangeset(nint session, out int size, out nint buffer);

    [LibraryImport(Library, EntryPoint = "sqlite3session_delete")]
    internal static partial void SessionDelete(nint session);

    [LibraryImport(Library, EntryPoint = "sqlite3changeset_apply")]
    internal static partial int ChangesetApply(
        nint db, int size, byte* changeset,
        delegate* unmanaged[Cdecl]<nint, nint, int> filter,
        delegate* unmanaged[Cdecl]<nint, int, nint, int> conflict,
        nint context);

    [LibraryImport(Library, EntryPoint = "sqlite3_free")]
    internal static partial void Free(nint pointer);
}
