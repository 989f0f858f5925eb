namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Bytes per second a maintenance job may read and write, shared by the jobs it is given to, so they leave the store's
/// bandwidth to ingestion. A job asks before each file; past its share it waits (a token bucket of one second's bytes).
/// </summary>
public sealed class IoBudget(long bytesPerSecond, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly object _gate = new();
    private double _available = bytesPerSecond;
    private long _last = (time ?? TimeProvider.System).GetTimestamp();

    /// <summary>No limit.</summary>
    public static IoBudget Unlimited { get; } = new(long.MaxValue);

    public long BytesPerSecond => bytesPerSecond;

    /// <summary>Waits until <paramref name="bytes"/> fit in the budget (a request larger than a second's share waits for its
    /// share of time), then takes them.</summary>
    public async ValueTask TakeAsync(long bytes, CancellationToken ct)
    {
        if (bytesPerSecond == long.MaxValue || bytes <= 0) return;
        TimeSpan wait;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _available = Math.Min(bytesPerSecond, _available + _time.GetElapsedTime(_last, now).TotalSeconds * bytesPerSecond);
            _last = now;
            _available -= bytes;
            wait = _available >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_available / bytesPerSecond);
        }
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, _time, ct);
    }
}
