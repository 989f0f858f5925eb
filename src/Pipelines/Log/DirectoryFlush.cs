using System.Runtime.InteropServices;

namespace DataPlane.Pipelines.Log;

/// <summary>A new segment file survives a crash only once its folder entry is flushed too; .NET has no folder fsync.</summary>
internal static class DirectoryFlush
{
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        int fd = Open(directory, 0);
        if (fd < 0)
            return;
        try { _ = Fsync(fd); }
        finally { _ = Close(fd); }
    }

    [DllImport("libc", EntryPoint = "open", CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync")]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
