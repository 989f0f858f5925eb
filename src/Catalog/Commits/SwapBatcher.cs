using DataPlane.Catalog.Store;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// Group commit of the SQLite side: single-table swaps of different tables that arrive together share one
/// transaction, so one fsync instead of one each. Each swap still lands or loses on its own; a multi-table
/// transaction, which must be all or none, swaps through <see cref="CatalogStore.TrySwap"/> directly.
/// </summary>
internal sealed class SwapBatcher(CatalogStore store)
{
    private readonly GroupQueue<MetadataSwap, bool> _queue = new();

    /// <summary>Holds the batcher as a running transaction does, so that swaps arriving meanwhile wait (a test seam).</summary>
    internal async Task<IDisposable> HoldAsync()
    {
        await _queue.Gate.WaitAsync();
        return new TableCommitter.Release(_queue.Gate);
    }

    /// <summary>True when the table moved to the new file; false when it had moved on (or vanished) meanwhile.</summary>
    public Task<bool> SwapAsync(MetadataSwap swap) => _queue.RunAsync(swap, group =>
    {
        var outcomes = store.TrySwapEach(CatalogObjectKind.Table, group.Select(g => g.Request).ToList());
        for (var i = 0; i < group.Count; i++)
        {
            if (outcomes[i].Error is { } error) group[i].Outcome.TrySetException(error);
            else group[i].Outcome.TrySetResult(outcomes[i].Applied);
        }
        return Task.CompletedTask;
    });
}
