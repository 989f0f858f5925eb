namespace DataPlane.Maintenance;

/// <summary>
/// What a job did: <see cref="Outcome"/> is <c>succeeded</c>, <c>nothing-to-do</c>, <c>dry-run</c>, <c>partial</c> (some
/// compaction groups were given up) or <c>failed</c>; <see cref="Summary"/> says it in a line; <see cref="Details"/> holds
/// the job's own counts; <see cref="Files"/> what a dry run would delete or rewrite (at most <see cref="MaxListedFiles"/>).
/// </summary>
internal sealed record JobOutcome(
    string Outcome,
    string Summary,
    long BytesRead,
    long BytesWritten,
    long FilesWritten,
    long FilesDeleted,
    IReadOnlyList<long> Snapshots,
    IReadOnlyDictionary<string, long> Details,
    IReadOnlyList<string> Files)
{
    public const int MaxListedFiles = 1000;

    public static JobOutcome Failed(string error) => new("failed", error, 0, 0, 0, 0, [], new Dictionary<string, long>(), []);
}
