namespace DataPlane.Storage.Local;

/// <summary>
/// Walks the folder tree yielding files in S3 key order. Entries of a folder are sorted with folders as
/// "name/", so "a-b" (0x2D) comes before the keys under "a/" (0x2F) exactly as S3 sorts them. Folders that
/// cannot hold keys under the prefix, at or before start-after, or inside a skipped prefix are not entered.
/// Symbolic links are never followed, to files or to folders: they are yielded with the reason instead of a file
/// (a link to a folder under its folder key, "name/"), so that no key ever reads outside the root.
/// </summary>
internal sealed class FolderWalk(string root, string reservedName)
{
    /// <summary>Keys starting with this are skipped; the caller sets it while walking (a rolled-up common prefix).</summary>
    public string? Skip { get; set; }

    /// <summary>Files, and (with a null file) the links passed over with why.</summary>
    public IEnumerable<(string Key, FileInfo? File, string? Skipped)> Files(string prefix, string? startAfter)
    {
        // Start in the deepest folder the prefix names completely ("a/b/c" starts in a/b/).
        var slash = prefix.LastIndexOf('/');
        var dirKey = slash < 0 ? "" : prefix[..(slash + 1)];
        // A folder reached through a link holds no keys: the link was reported where it stands.
        if (ThroughLink(dirKey))
            return [];
        var dir = new DirectoryInfo(dirKey.Length == 0 ? root : Path.Combine(root, dirKey));
        return Walk(dir, dirKey, prefix, startAfter);
    }

    private bool ThroughLink(string dirKey)
    {
        var path = root;
        foreach (var segment in dirKey.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = Path.Combine(path, segment);
            if (new DirectoryInfo(path).LinkTarget is not null)
                return true;
        }
        return false;
    }

    private static string LinkReason(FileSystemInfo link, string target)
    {
        var resolved = Path.GetFullPath(target, Path.GetDirectoryName(link.FullName)!);
        if (!Path.Exists(resolved))
            return $"a symbolic link to '{target}', which does not exist; links are not followed";
        return link is DirectoryInfo
            ? $"a symbolic link to the folder '{target}'; links are not followed"
            : $"a symbolic link to '{target}'; links are not followed (a link may lead outside the folder)";
    }

    private IEnumerable<(string Key, FileInfo? File, string? Skipped)> Walk(DirectoryInfo dir, string dirKey, string prefix, string? startAfter)
    {
        List<(string SortKey, FileSystemInfo Entry)> entries;
        try
        {
            entries = dir.EnumerateFileSystemInfos()
                .Where(e => !(dirKey.Length == 0 && e.Name == reservedName))
                .Select(e => (e is DirectoryInfo ? dirKey + e.Name + "/" : dirKey + e.Name, e))
                .ToList();
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        entries.Sort((a, b) => KeyOrder.Instance.Compare(a.SortKey, b.SortKey));

        foreach (var (key, entry) in entries)
        {
            // The attribute comes with the enumeration; reading the target is a call more, made for links only.
            if ((entry.Attributes & FileAttributes.ReparsePoint) != 0 && entry.LinkTarget is { } target)
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal)
                    && (startAfter is null || KeyOrder.Instance.Compare(key, startAfter) > 0)
                    && !(Skip is not null && key.StartsWith(Skip, StringComparison.Ordinal)))
                    yield return (key, null, LinkReason(entry, target));
            }
            else if (entry is DirectoryInfo sub)
            {
                if (!CanHoldKeys(key, prefix, startAfter))
                    continue;
                foreach (var found in Walk(sub, key, prefix, startAfter))
                    yield return found;
            }
            else if (entry is FileInfo file
                && key.StartsWith(prefix, StringComparison.Ordinal)
                && (startAfter is null || KeyOrder.Instance.Compare(key, startAfter) > 0)
                && !(Skip is not null && key.StartsWith(Skip, StringComparison.Ordinal)))
            {
                yield return (key, file, null);
            }
        }
    }

    private bool CanHoldKeys(string folderKey, string prefix, string? startAfter)
    {
        if (!folderKey.StartsWith(prefix, StringComparison.Ordinal) && !prefix.StartsWith(folderKey, StringComparison.Ordinal))
            return false;
        if (Skip is not null && folderKey.StartsWith(Skip, StringComparison.Ordinal))
            return false;
        // Every key in the folder starts with folderKey: all of them are <= start-after when start-after is
        // beyond folderKey without lying inside it.
        return startAfter is null
            || startAfter.StartsWith(folderKey, StringComparison.Ordinal)
            || KeyOrder.Instance.Compare(startAfter, folderKey) < 0;
    }
}
