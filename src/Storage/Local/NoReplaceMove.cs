using System.Runtime.InteropServices;

namespace DataPlane.Storage.Local;

/// <summary>
/// Moves a file into place only if nothing is there: on Unix, link(2) then unlink of the temp name. link fails with
/// EEXIST when the target exists, atomically, so of many writers exactly one wins; no check-then-rename window.
/// </summary>
internal static class NoReplaceMove
{
    private const int ENOENT = 2;
    private const int EEXIST = 17;

    /// <summary>False when the target already exists.</summary>
    public static bool TryMove(string source, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (link(source, target) == 0)
            {
                // Safe: only the temp name goes; the file lives on under the target's name (a crash first leaves the temp
                // name as a second link, never a missing object).
                File.Delete(source);
                return true;
            }
            switch (Marshal.GetLastPInvokeError())
            {
                case EEXIST:
                    return false;
                case ENOENT:
                    throw new DirectoryNotFoundException($"The folder of '{target}' is gone.");
                    // Anything else (a file system without hard links): File.Move, which does its own no-replace move.
            }
        }
        try
        {
            File.Move(source, target, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(target) || Directory.Exists(target))
        {
            return false;
        }
    }

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    private static extern int link([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
