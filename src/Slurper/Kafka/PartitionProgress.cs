namespace DataPlane.Slurper.Kafka;

/// <summary>Which offsets of one partition are being copied. Copies finish out of order; only the offset below which
/// everything is done may be committed, so a worker that dies or loses the partition leaves nothing unfinished behind.</summary>
internal sealed class PartitionProgress
{
    readonly SortedSet<long> inFlight = [];
    long next = -1;

    public void Started(long offset)
    {
        inFlight.Add(offset);
        next = Math.Max(next, offset + 1);
    }

    public void Finished(long offset) => inFlight.Remove(offset);

    public int InFlight => inFlight.Count;

    /// <summary>The offset to commit (the next one to copy), or -1 when nothing was consumed.</summary>
    public long CommitOffset => inFlight.Count > 0 ? inFlight.Min : next;
}
