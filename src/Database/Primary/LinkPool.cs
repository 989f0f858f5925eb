using System.Collections.Concurrent;
using DataPlane.Database.Execution;

namespace DataPlane.Database.Primary;

/// <summary>Read-only connections to one database file, at most <c>max</c> open at once.</summary>
internal sealed class LinkPool(string path, int max) : IDisposable
{
    private readonly ConcurrentBag<SqliteLink> _idle = [];
    private readonly SemaphoreSlim _slots = new(max, max);
    private bool _disposed;

    /// <summary>Connections rented and not yet returned.</summary>
    public int InUse => max - _slots.CurrentCount;

    public async Task<SqliteLink> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        if (_idle.TryTake(out var link)) return link;
        try
        {
            return new SqliteLink(path, readOnly: true, synchronous: "NORMAL");
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Return(SqliteLink link, bool broken = false)
    {
        if (broken || Volatile.Read(ref _disposed)) link.Dispose();
        else _idle.Add(link);
        _slots.Release();
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_idle.TryTake(out var link)) link.Dispose();
    }
}
