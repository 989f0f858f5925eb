using System.Runtime.InteropServices;

namespace DataPlane.Storage.Durability;

/// <summary>
/// A new or renamed file survives a crash only once its folder entry is flushed too: fsync on the folder itself, which
/// .NET has no API for. Best effort: a failure here leaves the data written and renamed, so it is not reported.
/// </summary>
public static partial class DirectoryFlush
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
            return; // NTFS journals the rename; there is no folder handle to flush.
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            return;
        try { _ = Fsync(fd); }
        finally { _ = Close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
