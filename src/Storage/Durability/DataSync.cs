using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace DataPlane.Storage.Durability;

/// <summary>
/// Makes written bytes durable. On Linux, fdatasync: the data and the size, without the timestamps
/// that fsync (FileStream.Flush(true)) also writes, which costs a second journal write per commit.
/// </summary>
public static partial class DataSync
{
    public static void Flush(SafeFileHandle handle)
    {
        if (OperatingSystem.IsLinux())
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            try
            {
                if (FdataSync((int)handle.DangerousGetHandle()) == 0) return;
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
        RandomAccess.FlushToDisk(handle);
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FdataSync(int fd);
}
