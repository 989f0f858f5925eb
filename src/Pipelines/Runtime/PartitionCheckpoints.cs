namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// Where a commit of a pipeline whose state follows the Kafka partitions keeps that state: a folder named like the
/// sink's checkpoints with <c>.partitions/</c> at the end, holding a checkpoint folder <c>partition-&lt;n&gt;/</c> (<see cref="PipelineCheckpoint"/>) for each partition the
/// commit names. The commit's <c>dataplane.checkpoint</c> names the folder (orphan removal and expiry keep or remove what
/// is under it), and its suffix tells it from a checkpoint that holds every partition at once.
/// </summary>
internal static class PartitionCheckpoints
{
    private const string Suffix = ".partitions/";

    /// <summary>The folder for a commit, from a new checkpoint key of the sink's target.</summary>
    public static string Folder(string checkpointKey)
    {
        var key = checkpointKey.TrimEnd('/');
        if (key.EndsWith(".state", StringComparison.Ordinal))
            key = key[..^".state".Length];
        return key + Suffix;
    }

    /// <summary>Whether a checkpoint location (or key) is such a folder.</summary>
    public static bool IsFolder(string checkpoint) => checkpoint.EndsWith(Suffix, StringComparison.Ordinal);

    /// <summary>The checkpoint folder (key or location) of one partition's state in a folder (its key or location).</summary>
    public static string Of(string folder, int partition) => $"{folder}partition-{partition}/";
}
