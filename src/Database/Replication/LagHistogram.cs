namespace DataPlane.Database.Replication;

/// <summary>
/// Replica lag samples (commit on the primary to visible on the replica) in fixed 10 µs buckets up
/// to 100 ms, plus an overflow bucket: constant memory, no allocation per sample.
/// </summary>
internal sealed class LagHistogram
{
    private const int BucketMicros = 10;
    private const int Buckets = 10_000;
    private readonly long[] _counts = new long[Buckets + 1];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long micros)
    {
        long bucket = Math.Clamp(micros / BucketMicros, 0, Buckets);
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The lag in milliseconds below which <paramref name="quantile"/> of samples fall (upper bucket edge).</summary>
    public double QuantileMilliseconds(double quantile)
    {
        long total = Count;
        if (total == 0) return 0;
        long rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (int i = 0; i <= Buckets; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank) return (i + 1) * BucketMicros / 1000.0;
        }
        return Buckets * BucketMicros / 1000.0;
    }

    public void Reset()
    {
        for (int i = 0; i <= Buckets; i++) Interlocked.Exchange(ref _counts[i], 0);
        Interlocked.Exchange(ref _total, 0);
    }
}
