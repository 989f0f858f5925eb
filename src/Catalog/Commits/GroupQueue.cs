namespace DataPlane.Catalog.Commits;

/// <summary>
/// Group commit: requests that arrive while a group is being processed wait, and the next one to take the gate
/// processes everything waiting as one group, answering each request; a waiter that finds its request answered by
/// an earlier group just leaves. Costs that are paid once per group (an fsync) are then shared by all its requests.
/// </summary>
internal sealed class GroupQueue<TRequest, TResult>
{
    private readonly List<Entry> _waiting = [];

    /// <summary>Held while a group is processed; also taken by work that must exclude groups (a multi-table commit).</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Requests queued for the next group (a test seam: how tests know that commits will be grouped).</summary>
    public int Waiting
    {
        get
        {
            lock (_waiting) return _waiting.Count;
        }
    }

    public sealed class Entry(TRequest request)
    {
        public TRequest Request { get; } = request;
        public TaskCompletionSource<TResult> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Queues <paramref name="request"/> and waits for its outcome. <paramref name="process"/> must answer every entry
    /// of the group it gets; an exception it throws answers the ones it left. Not cancellable once queued: a group may
    /// already hold the request.
    /// </summary>
    public async Task<TResult> RunAsync(TRequest request, Func<IReadOnlyList<Entry>, Task> process)
    {
        var entry = new Entry(request);
        lock (_waiting) _waiting.Add(entry);
        await Gate.WaitAsync();
        try
        {
            if (!entry.Outcome.Task.IsCompleted)
            {
                Entry[] group;
                lock (_waiting)
                {
                    group = [.. _waiting];
                    _waiting.Clear();
                }
                try
                {
                    await process(group);
                }
                catch (Exception e)
                {
                    foreach (var g in group) g.Outcome.TrySetException(e);
                }
            }
        }
        finally
        {
            Gate.Release();
        }
        return await entry.Outcome.Task;
    }
}
