namespace DataPlane.Pipelines.Metrics;

/// <summary>A Prometheus histogram with fixed upper bounds in seconds; lock-free observation.</summary>
internal sealed class Histogram
{
    public static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly long[] _counts;
    private long _count;
    private long _sumMicros;

    public Histogram(double[] bounds)
    {
        Bounds = bounds;
        _counts = new long[bounds.Length];
    }

    public double[] Bounds { get; }

    public void Observe(double seconds)
    {
        for (int i = 0; i < Bounds.Length; i++)
            if (seconds <= Bounds[i]) { Interlocked.Increment(ref _counts[i]); break; }
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
    }

    /// <summary>Cumulative counts per bound, as Prometheus wants them.</summary>
    public (long[] Cumulative, long Count, double Sum) Snapshot()
    {
        var cumulative = new long[Bounds.Length];
        long running = 0;
        for (int i = 0; i < Bounds.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            cumulative[i] = running;
        }
        return (cumulative, Interlocked.Read(ref _count), Interlocked.Read(ref _sumMicros) / 1_000_000.0);
    }
}
