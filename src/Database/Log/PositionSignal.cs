namespace DataPlane.Database.Log;

/// <summary>A monotonically advancing position that readers can await (a replay-position wait).</summary>
internal sealed class PositionSignal(long initial)
{
    private long _current = initial;
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Current => Volatile.Read(ref _current);

    public void Advance(long position)
    {
        if (position <= Volatile.Read(ref _current)) return;
        Volatile.Write(ref _current, position);
        Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Resets after a re-bootstrap, which may move the position either way.</summary>
    public void Reset(long position)
    {
        Volatile.Write(ref _current, position);
        Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>True once the position is at least <paramref name="target"/>; false on timeout.</summary>
    public async Task<bool> WaitAsync(long target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Current >= target) return true;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var advanced = Volatile.Read(ref _advanced).Task;
            if (Current >= target) return true;
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return false;
            try
            {
                await advanced.WaitAsync(TimeSpan.FromMilliseconds(remaining), cancellationToken);
            }
            catch (TimeoutException)
            {
                return Current >= target;
            }
        }
    }
}
