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

    /// <summary>An estimate of the memory the groups take: the key table's arrays, and the aggregates' at
    /// <paramref name="groupBytes"/> a group for as many groups as the table has room for (their arrays grow by
    /// doubling, as the table's); an empty shard's few bytes are not counted.</summary>
    public long Bytes(long groupBytes) => Keys.Count == 0 ? 0 : Keys.Bytes + Keys.Capacity * groupBytes;

    /// <summary>Takes a key table and its aggregates read from a snapshot, when the shard holds nothing.</summary>
    public void Adopt(KeyTable keys, AggregateSet aggregates)
    {
        if (Keys.Count > 0 || Spilled) throw new InvalidOperationException("a shard adopts groups only when empty");
        Keys = keys;
        Aggregates = aggregates;
    }

    /// <summary>Writes the groups in memory as a sorted run and starts an empty table.</summary>
    public void Spill(StateMemory memory, GroupStateCodec codec)
    {
        if (Keys.Count == 0) return;
        _runs.Add(GroupRun.Write(memory, Keys, Aggregates, codec));
        Keys = new KeyTable();
        Aggregates = empty();
    }

    /// <summary>
    /// Every group, each key once: the table in memory as it is when nothing was spilled; otherwise (the groups in memory
    /// spilled too) the runs merged, in batches of at most <paramref name="groups"/> keys, each valid until the next.
    /// </summary>
    public IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> Groups(StateMemory memory, GroupStateCodec codec, int groups)
    {
        if (!Spilled) return Keys.Count == 0 ? [] : [(Keys, Aggregates)];
        Spill(memory, codec);
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
