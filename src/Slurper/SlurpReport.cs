using DataPlane.Slurper.Journal;

namespace DataPlane.Slurper;

/// <summary>The final report of a run: a summary, then one tab-separated line per object that was not copied
/// (failed with its last error, too large, archived, a link or an invalid key with why; for a dry run, what would be copied).</summary>
internal static class SlurpReport
{
    public static void Write(string path, JobStatus status, JobJournal journal)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var w = new StreamWriter(path);
        foreach (var line in status.Describe().Split(Environment.NewLine)) w.WriteLine("# " + line);
        w.WriteLine("state\tkey\tsize\tattempts\terror");
        foreach (var (key, size, state, attempts, error) in journal.Entries(
                     ObjectState.Dead, ObjectState.SkippedTooLarge, ObjectState.SkippedArchive, ObjectState.SkippedLink, ObjectState.SkippedInvalidKey,
                     ObjectState.WouldCopy))
            w.WriteLine($"{Name(state)}\t{key}\t{size}\t{attempts}\t{Clean(error)}");
    }

    public static string Name(ObjectState state) => state switch
    {
        ObjectState.Dead => "failed",
        ObjectState.SkippedTooLarge => "too-large",
        ObjectState.SkippedArchive => "archived",
        ObjectState.SkippedLink => "link",
        ObjectState.SkippedInvalidKey => "invalid-key",
        ObjectState.WouldCopy => "would-copy",
        ObjectState.SkippedExisting => "exists",
        ObjectState.Copied => "copied",
        _ => state.ToString().ToLowerInvariant(),
    };

    static string Clean(string? error) => (error ?? "").Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
}
