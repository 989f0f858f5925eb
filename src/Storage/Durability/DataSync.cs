using System.Runtime.InteropServices;

namespace DataPlane.Storage.Durability;

/// <summary>
/// Makes written bytes durable. On Linux, fdatasync: the data and the size, without the timestamps
/// that fsync (FileStream.Flush(true)) also writes, which costs a second journal write per commit.
/// </summary>
public static partial class DataSync
{
    public static void Flush(FileStream stream)
    {
        if (OperatingSystem.IsLinux())
        {
            bool added = false;
            stream.SafeFileHandle.DangerousAddRef(ref added);
            try
            {
                if (FdataSync((int)stream.SafeFileHandle.DangerousGetHandle()) == 0) return;
            }
            finally
            {
                if (added) stream.SafeFileHandle.DangerousRelease();
            }
        }
        stream.Flush(flushToDisk: true);
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FdataSync(int fd);
}
