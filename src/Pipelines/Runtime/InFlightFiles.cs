namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The files the pipelines are writing for commits to come: every store key their journals
/// (<see cref="UncommittedFileJournal"/>, <c>&lt;pipelines dir&gt;/pipelines/&lt;name&gt;.files</c>) name. Table maintenance's
/// orphan removal keeps them: a journal records a key before its file is created, so a file that a listing finds is
/// named here until its commit references it.
/// </summary>
public static class InFlightFiles
{
    /// <param name="pipelinesDirectory">The pipelines' state folder (<see cref="PipelinesOptions.Directory"/>, <c>&lt;data&gt;/pipelines</c>).</param>
    public static IReadOnlySet<string> Read(string pipelinesDirectory)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var folder = Path.Combine(Path.GetFullPath(pipelinesDirectory), "pipelines");
        if (!Directory.Exists(folder))
            return keys;
        foreach (var path in Directory.EnumerateFiles(folder, "*.files"))
        {
            try
            {
                keys.UnionWith(new UncommittedFileJournal(path).Read().Keys);
            }
            catch (FileNotFoundException)
            {
                // Deleted with its pipeline meanwhile: nothing of it is in flight.
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
        return keys;
    }
}
