namespace DataPlane.Slurper.Journal;

/// <summary>A job's standing as the journal records it.</summary>
public sealed record JobStatus(
    string JobId,
    string Source,
    string Destination,
    int Run,
    string State,
    bool ListingComplete,
    DateTimeOffset RunStartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyDictionary<ObjectState, long> Objects,
    long BytesTotal,
    long BytesCopied,
    long BytesRemaining,
    long DuplicatePages,
    IReadOnlyList<(string Key, int Attempts, string Error)> Failures)
{
    public long Count(ObjectState state) => Objects.TryGetValue(state, out var n) ? n : 0;
    public long Total => Objects.Values.Sum();
    public long Remaining => Count(ObjectState.Pending) + Count(ObjectState.Leased);

    public double BytesPerSecond
    {
        get
        {
            var seconds = ((FinishedAt ?? DateTimeOffset.UtcNow) - RunStartedAt).TotalSeconds;
            return seconds > 0 ? BytesCopied / seconds : 0;
        }
    }

    public string Describe()
    {
        var lines = new List<string>
        {
            $"job {JobId} (run {Run}): {State}{(ListingComplete ? "" : ", still listing")}",
            $"  from {Source}",
            $"  to   {Destination}",
            $"  objects: {Total} listed, {Count(ObjectState.Copied)} copied, {Count(ObjectState.SkippedExisting)} already there, " +
            $"{Remaining} to do, {Count(ObjectState.Dead)} failed, {Count(ObjectState.SkippedTooLarge)} too large, {Count(ObjectState.SkippedArchive)} archived" +
            (Count(ObjectState.SkippedLink) > 0 ? $", {Count(ObjectState.SkippedLink)} symbolic links skipped" : "") +
            (Count(ObjectState.SkippedInvalidKey) > 0 ? $", {Count(ObjectState.SkippedInvalidKey)} invalid keys skipped" : "") +
            (Count(ObjectState.WouldCopy) > 0 ? $", {Count(ObjectState.WouldCopy)} would be copied" : ""),
            $"  bytes: {Units.Bytes(BytesCopied)} copied of {Units.Bytes(BytesTotal)} listed, {Units.Bytes((long)BytesPerSecond)}/s",
        };
        if (DuplicatePages > 0) lines.Add($"  duplicate list pages ignored: {DuplicatePages}");
        foreach (var (key, attempts, error) in Failures.Take(20)) lines.Add($"  FAILED {key} after {attempts} attempts: {error}");
        if (Failures.Count > 20) lines.Add($"  ... {Failures.Count - 20} more failures in the report");
        return string.Join(Environment.NewLine, lines);
    }
}
