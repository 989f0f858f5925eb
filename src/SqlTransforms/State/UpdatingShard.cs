using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// One shard of an updating aggregate's groups (GROUP BY keys without a window): a hash table of keys with their
/// aggregates and which of them changed since the last flush, in memory, and what was spilled from it as sorted runs
/// carrying that flag (<see cref="UpdatingRun"/>). Once spilled, the table holds partial states of the keys that came
/// back since; a flush folds them into their runs in one pass.
/// </summary>
internal sealed class UpdatingShard(Func<AggregateSet> empty) : IGroupShard
{
    /// <summary>Bytes a group's change tracking takes beside its aggregates: its flag and its place in the list of changed groups.</summary>
    public const int ChangeBytes = sizeof(bool) + sizeof(int);

    private readonly List<string> _runs = [];
    private bool[] _isChanged = new bool[KeyTable.InitialCapacity];
    /// <summary>The groups in memory changed since the last flush, in the order they first changed.</summary>
    private int[] _changed = new int[KeyTable.InitialCapacity];
    private int _changedCount;
    /// <summary>Whether a run spilled since the last flush holds changed groups.</summary>
    private bool _spilledChanges;

    public KeyTable Keys { get; private set; } = new();
    public AggregateSet Aggregates { get; private set; } = empty();

    public bool Spilled => _runs.Count > 0;

    int IGroupShard.Groups => Keys.Count;

    bool IGroupShard.Holds(int group) => true;

    /// <summary>The runs spilled and not yet folded by a flush, oldest first (one after a flush).</summary>
    public IReadOnlyList<string> Runs => _runs;

    /// <summary>Whether a group changed since the last flush, in memory or in a run.</summary>
    public bool Dirty => _changedCount > 0 || _spilledChanges;

    /// <summary>An estimate of the memory the groups take: the key table's arrays, and the aggregates' at
    /// <paramref name="groupBytes"/> a group with their change tracking, for as many groups as the table has room for.</summary>
    public long Bytes(long groupBytes) => Keys.Bytes + Keys.Capacity * (groupBytes + ChangeBytes);

    /// <summary>What adding a key of <paramref name="length"/> bytes to a full table allocates (see <see cref="KeyTable.Growth"/>),
    /// the aggregates' arrays and the change tracking included when the table's rows double.</summary>
    public (long Added, long Replaced) Growth(int length, long groupBytes)
    {
        var (added, replaced) = Keys.Growth(length);
        if (Keys.Count == Keys.Capacity)
        {
            added += Keys.Capacity * (groupBytes + ChangeBytes);
            replaced += Keys.Capacity * (groupBytes + ChangeBytes);
        }
        return (added, replaced);
    }

    /// <summary>Group <paramref name="id"/> changed: its row is due at the next flush.</summary>
    public void MarkChanged(int id)
    {
        if (id >= _isChanged.Length)
        {
            int size = Math.Max(id + 1, Math.Max(Keys.Capacity, _isChanged.Length * 2));
            Array.Resize(ref _isChanged, size);
            Array.Resize(ref _changed, size);
        }
        if (_isChanged[id]) return;
        _isChanged[id] = true;
        _changed[_changedCount++] = id;
    }

    /// <summary>Takes a key table and its aggregates read from a snapshot, when the shard holds nothing.</summary>
    public void Adopt(KeyTable keys, AggregateSet aggregates, ReadOnlySpan<int> changed)
    {
        if (Keys.Count > 0 || Spilled) throw new InvalidOperationException("a shard adopts groups only when empty");
        Keys = keys;
        Aggregates = aggregates;
        _isChanged = new bool[Math.Max(KeyTable.InitialCapacity, keys.Capacity)];
        _changed = new int[_isChanged.Length];
        _changedCount = 0;
        foreach (int id in changed) MarkChanged(id);
    }

    /// <summary>
    /// Writes the groups in memory as a sorted run with their flags, then empties the table and its aggregates in place
    /// (the shard goes on filling them at the size they have, at no new allocation, and its aggregates' count of
    /// arrivals goes on, which first_value and array_agg order by).
    /// </summary>
    public void Spill(StateMemory memory, GroupStateCodec codec)
    {
        if (Keys.Count == 0) return;
        _runs.Add(UpdatingRun.Write(memory, Keys, Aggregates, codec, _isChanged));
        _spilledChanges |= _changedCount > 0;
        ClearChanged();
        Aggregates.Reset(Keys.Count);
        Keys.Clear();
    }

    /// <summary>
    /// Emits each group changed since the last flush (<paramref name="emit"/>: a table, its aggregates and the ids of
    /// those changed), and forgets they changed. In memory, the table's changed groups; spilled, the groups in memory
    /// spill too and every run is merged with the others in key order a batch of <paramref name="groups"/> at a time,
    /// each key's fragments folded into its value, and written back whole as one run that replaces them: a
    /// sequential pass over the shard's state, holding a batch per run.
    /// </summary>
    public void Flush(StateMemory memory, GroupStateCodec codec, int groups, Action<KeyTable, AggregateSet, ReadOnlySpan<int>> emit)
    {
        if (!Dirty) return;
        if (!Spilled)
        {
            emit(Keys, Aggregates, _changed.AsSpan(0, _changedCount));
            ClearChanged();
            return;
        }
        Spill(memory, codec);
        string folded;
        using (var run = new UpdatingRun.Writer(memory))
        {
            foreach (var (keys, aggregates, changed) in UpdatingRun.Merge(memory, _runs, codec, empty, groups))
            {
                if (changed.Count > 0) emit(keys, aggregates, changed);
                for (int id = 0; id < keys.Count; id++) run.Add(keys.Key(id), codec.Encode(aggregates, id), false);
            }
            folded = run.Finish();
        }
        foreach (var old in _runs) memory.Delete(old);
        _runs.Clear();
        _runs.Add(folded);
        _spilledChanges = false;
    }

    /// <summary>
    /// Every group, each key once, with the ids of those changed: the table in memory as it is when nothing was
    /// spilled; otherwise (the groups in memory spilled too) the runs merged, in batches of at most
    /// <paramref name="groups"/> keys, each valid until the next. The runs stay (but for a merge of too many).
    /// </summary>
    public IEnumerable<(KeyTable Keys, AggregateSet Aggregates, ArraySegment<int> Changed)> Groups(StateMemory memory, GroupStateCodec codec, int groups)
    {
        if (!Spilled) return Keys.Count == 0 ? [] : [(Keys, Aggregates, new ArraySegment<int>(_changed, 0, _changedCount))];
        Spill(memory, codec);
        return UpdatingRun.Merge(memory, _runs, codec, empty, groups);
    }

    /// <summary>Forgets every group, deleting the runs.</summary>
    public void Drop(StateMemory memory)
    {
        foreach (var run in _runs) memory.Delete(run);
        _runs.Clear();
        Keys = new KeyTable();
        Aggregates = empty();
        _isChanged = new bool[KeyTable.InitialCapacity];
        _changed = new int[KeyTable.InitialCapacity];
        _changedCount = 0;
        _spilledChanges = false;
    }

    private void ClearChanged()
    {
        foreach (int id in _changed.AsSpan(0, _changedCount)) _isChanged[id] = false;
        _changedCount = 0;
    }
}
