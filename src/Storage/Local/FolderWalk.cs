namespace DataPlane.Storage.Local;

/// <summary>
/// Walks the folder tree yielding files in S3 key order. Entries of a folder are sorted with folders as
/// "name/", so "a-b" (0x2D) comes before the keys under "a/" (0x2F) exactly as S3 sorts them. Folders that
/// cannot hold keys under the prefix, at or before start-after, or inside a skipped prefix are not entered.
/// </summary>
internal sealed class FolderWalk(string root, string reservedName)
{
    /// <summary>Keys starting with this are skipped; the caller sets it while walking (a rolled-up common prefix).</summary>
    public string? Skip { get; set; }

    public IEnumerable<(string Key, FileInfo File)> Files(string prefix, string? startAfter)
    {
        // Start in the deepest folder the prefix names completely ("a/b/c" starts in a/b/).
        var slash = prefix.LastIndexOf('/');
        var dirKey = slash < 0 ? "" : prefix[..(slash + 1)];
        var dir = new DirectoryInfo(dirKey.Length == 0 ? root : Path.Combine(root, dirKey));
        return Walk(dir, dirKey, prefix, startAfter);
    }

    private IEnumerable<(string Key, FileInfo File)> Walk(DirectoryInfo dir, string dirKey, string prefix, string? startAfter)
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
            if (entry is DirectoryInfo sub)
            {
                if (!CanHoldKeys(key, prefix, startAfter))
                    continue;
                foreach (var file in Walk(sub, key, prefix, startAfter))
                    yield return file;
            }
            else if (entry is FileInfo file
                && key.StartsWith(prefix, StringComparison.Ordinal)
                && (startAfter is null || KeyOrder.Instance.Compare(key, startAfter) > 0)
                && !(Skip is not null && key.StartsWith(Skip, StringComparison.Ordinal)))
            {
                yield return (key, file);
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
