using System.Runtime.InteropServices;

namespace DataPlane.TestServices;

/// <summary>
/// Makes SIGINT reach the child processes the tests start. A shell without job control starts background commands
/// with SIGINT ignored, children inherit that, and .NET keeps a signal ignored at startup ignored: run that way (as
/// CI may), a `dataplane serve` started by a test would not stop on the Ctrl-C the test sends.
/// </summary>
internal static class InterruptSignal
{
    private const int SIGINT = 2; // the same number on Linux and macOS
    private static readonly IntPtr SIG_DFL = 0, SIG_IGN = 1;
    private static int _done;

    /// <summary>Sets SIGINT back to its default action in this process when it was inherited as ignored; once.</summary>
    public static void RestoreIfIgnored()
    {
        if (OperatingSystem.IsWindows() || Interlocked.Exchange(ref _done, 1) == 1) return;
        // struct sigaction starts with the handler on Linux and macOS; the buffer is larger than the struct on both.
        var current = Marshal.AllocHGlobal(512);
        try
        {
            if (sigaction(SIGINT, IntPtr.Zero, current) == 0 && Marshal.ReadIntPtr(current) == SIG_IGN)
                signal(SIGINT, SIG_DFL);
        }
        finally
        {
            Marshal.FreeHGlobal(current);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sigaction(int signum, IntPtr act, IntPtr oldact);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr signal(int signum, IntPtr handler);
}
