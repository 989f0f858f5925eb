using System.Collections.Concurrent;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// Metadata files by location, bounded by an estimate of the memory they hold. Keying by location is what keeps it
/// correct without invalidation: every commit, through the REST handlers or any other writer of the catalog store,
/// writes a file under a new name and moves the table to it, so a reader that takes the location from the store
/// always finds either the right file here or nothing. When over capacity, the least recently used quarter goes.
/// </summary>
internal sealed class MetadataCache(long capacityBytes)
{
    private readonly ConcurrentDictionary<string, MetadataFile> _files = new(StringComparer.Ordinal);
    private readonly Lock _evicting = new();
    private long _weight;
    private long _clock;

    public long Weight => Interlocked.Read(ref _weight);
    public int Count => _files.Count;

    public MetadataFile? Get(string location)
    {
        if (!_files.TryGetValue(location, out var file)) return null;
        file.LastUse = Interlocked.Increment(ref _clock);
        return file;
    }

    /// <summary>Adds a file unless one with its location is already held; returns the one held.</summary>
    public MetadataFile Add(MetadataFile file)
    {
        file.LastUse = Interlocked.Increment(ref _clock);
        var held = _files.GetOrAdd(file.Location, file);
        if (!ReferenceEquals(held, file)) return held;
        if (Interlocked.Add(ref _weight, file.Weight) > capacityBytes) Evict(file);
        return file;
    }

    /// <summary>Drops a file that a commit superseded: loads now start from its successor, so holding it only costs memory.</summary>
    public void Forget(string location)
    {
        if (_files.TryRemove(location, out var file)) Interlocked.Add(ref _weight, -file.Weight);
    }

    private void Evict(MetadataFile keep)
    {
        lock (_evicting)
        {
            if (Interlocked.Read(ref _weight) <= capacityBytes) return;
            var target = capacityBytes * 3 / 4;
            foreach (var file in _files.Values.OrderBy(f => f.LastUse))
            {
                if (Interlocked.Read(ref _weight) <= target) break;
                if (ReferenceEquals(file, keep)) continue;
                if (_files.TryRemove(new KeyValuePair<string, MetadataFile>(file.Location, file)))
                    Interlocked.Add(ref _weight, -file.Weight);
            }
        }
    }
}
