using System.Runtime.InteropServices;

namespace DataPlane.Storage.Local;

/// <summary>
/// A rename is durable only once its folder is flushed: fsync on the folder itself, which .NET has no API for.
/// Best effort: a failure here leaves the data written and renamed, so it is not reported.
/// </summary>
internal static class DirectorySync
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
            return; // NTFS journals the rename; there is no folder handle to flush.
        var fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            return;
        try { _ = fsync(fd); }
        finally { _ = close(fd); }
    }

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc")]
    private static extern int close(int fd);
}
