using System.IO.Hashing;
using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// One shard of a keyed aggregation's groups (of one pane, for a window): a hash table of keys with their aggregates
/// in memory, and what was spilled from it as sorted runs on local disk.
/// </summary>
internal sealed class KeyedShard(Func<AggregateSet> empty)
{
    private readonly List<string> _runs = [];

    public KeyTable Keys { get; private set; } = new();
    public AggregateSet Aggregates { get; private set; } = empty();

    public bool Spilled => _runs.Count > 0;

    /// <summary>The shard of a key among <paramref name="shards"/>: the high half of its xxHash3 (stable across processes),
    /// scaled to the shard count. Every sharded operator places keys by it, so a snapshot's shard files split alike.</summary>
    public static int Of(ReadOnlySpan<byte> key, int shards) => shards == 1 ? 0 : (int)(((XxHash3.HashToUInt64(key) >> 32) * (ulong)shards) >> 32);

    /// <summary>Whether the table holds groups, or room it grew for them (emptied by a spill, it keeps its size).</summary>
    public bool Grown => Keys.Count > 0 || Keys.Capacity > KeyTable.InitialCapacity;

    /// <summary>The runs spilled so far, in the order they were written.</summary>
    public IReadOnlyList<string> Runs => _runs;

    /// <summary>An estimate of the memory the groups take: the key table's arrays, and the aggregates' at
    /// <paramref name="groupBytes"/> a group for as many groups as the table has room for (their arrays grow by
    /// doubling, as the table's, and a spilled table keeps its capacity for the groups that follow).</summary>
    public long Bytes(long groupBytes) => Keys.Bytes + Keys.Capacity * groupBytes;

    /// <summary>What adding a key of <paramref name="length"/> bytes to a full table allocates (see <see cref="KeyTable.Growth"/>),
    /// the aggregates' arrays included when the table's rows double.</summary>
    public (long Added, long Replaced) Growth(int length, long groupBytes)
    {
        var (added, replaced) = Keys.Growth(length);
        if (Keys.Count == Keys.Capacity)
        {
            added += Keys.Capacity * groupBytes;
            replaced += Keys.Capacity * groupBytes;
        }
        return (added, replaced);
    }

    /// <summary>Takes a key table and its aggregates read from a snapshot, when the shard holds nothing.</summary>
    public void Adopt(KeyTable keys, AggregateSet aggregates)
    {
        if (Keys.Count > 0 || Spilled) throw new InvalidOperationException("a shard adopts groups only when empty");
        Keys = keys;
        Aggregates = aggregates;
    }

    /// <summary>
    /// Writes the groups in memory as a sorted run; then, with <paramref name="keep"/>, empties the table and its
    /// aggregates in place (the shard goes on filling them, at no new allocation), otherwise lets them go for new ones.
    /// </summary>
    public void Spill(StateMemory memory, GroupStateCodec codec, bool keep)
    {
        if (Keys.Count == 0 && (keep || !Grown)) return;
        if (Keys.Count > 0) _runs.Add(GroupRun.Write(memory, Keys, Aggregates, codec));
        if (keep)
        {
            Aggregates.Reset(Keys.Count);
            Keys.Clear();
        }
        else
        {
            Keys = new KeyTable();
            Aggregates = empty();
        }
    }

    /// <summary>
    /// Every group, each key once: the table in memory as it is when nothing was spilled; otherwise (the groups in memory
    /// spilled too) the runs merged, in batches of at most <paramref name="groups"/> keys, each valid until the next.
    /// </summary>
    public IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> Groups(StateMemory memory, GroupStateCodec codec, int groups)
    {
        if (!Spilled) return Keys.Count == 0 ? [] : [(Keys, Aggregates)];
        Spill(memory, codec, keep: true);
        return GroupRun.Merge(memory, _runs, codec, empty, groups);
    }

    /// <summary>Forgets every group, deleting the runs.</summary>
    public void Drop(StateMemory memory)
    {
        foreach (var run in _runs) memory.Delete(run);
        _runs.Clear();
        Keys = new KeyTable();
        Aggregates = empty();
    }
}
