namespace DataPlane.Benchmarks.Sources;

/// <summary>
/// The highest working set of this process while one path of a driver runs, sampled every 100 ms (the process's own
/// peak, <c>PeakWorkingSet64</c>, covers its whole life: every earlier path and the bodies they held).
/// </summary>
internal sealed class WorkingSetPeak : IDisposable
{
    private readonly Timer _timer;
    private long _peak = Environment.WorkingSet;

    public WorkingSetPeak() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

    public long Bytes
    {
        get
        {
            Sample();
            return Interlocked.Read(ref _peak);
        }
    }

    private void Sample()
    {
        long now = Environment.WorkingSet;
        long seen;
        while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen) { }
    }

    public void Dispose() => _timer.Dispose();
}
