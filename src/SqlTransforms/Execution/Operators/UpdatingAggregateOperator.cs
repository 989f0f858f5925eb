using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// GROUP BY keys without a window over a stream: an updating aggregate. Every key's aggregates are kept for as long
/// as the stream runs; <see cref="Flush"/> (the runtime calls it just before each sink commit) emits the current row
/// of each key that changed since the last flush, which the sink writes over the key's older row (an equality delete
/// on the keys plus the new row, in one snapshot). The input is append-only, so min and max never retract. A record
/// with a NULL key is dropped and counted: a key is the sink table's identifier, whose columns are required.
/// <para>
/// The groups are split into shards by a hash of the key. Past the execution's state budget a shard's groups in memory
/// spill to a sorted run on disk with a flag per key saying whether it changed since the last flush
/// (<see cref="UpdatingShard"/>); the table then holds partial states of the keys that come back. A flush of a spilled
/// shard merges its runs and what is in memory in key order a batch at a time, emits the keys flagged, and writes the
/// folded groups back as one run: a sequential pass over the shard's state, so lookups need no random access to disk.
/// </para>
/// </summary>
internal sealed class UpdatingAggregateOperator : Operator, IShardedOperator
{
    public static readonly RowErrorReason NullKey = new("null_key", "a record whose GROUP BY key is NULL, which an updating aggregate's sink table cannot identify");

    /// <summary>Groups per merged batch when a shard's groups come from spilled runs.</summary>
    private const int MergedGroups = 8192;

    /// <summary>Written where snapshots before shards had the key count (never negative): the shards' groups follow.</summary>
    private const int ShardedLayout = -1;

    /// <summary>Written there when the shards' groups are apart (<see cref="WriteStateApart"/>, <see cref="WriteShard"/>).</summary>
    private const int ApartLayout = -2;

    private readonly IReadOnlyList<int> _keys;
    private readonly Schema _schema;
    private readonly RowErrorLog _log;
    private readonly KeyCodec _codec;
    private readonly IArrowArray[] _keyColumns;
    private readonly AggregateSet _aggregates;
    private readonly StateMemory _memory;
    private readonly UpdatingShard[] _shards;
    private readonly bool[] _touched;
    private readonly List<int> _touchedList = [];
    private GroupStateCodec? _stateCodec;
    /// <summary>Estimated bytes of one group's aggregates (sampled at each spill), and what this operator holds by that estimate.</summary>
    private long _groupBytes;
    private long _held;
    private int[] _groups = [];
    private int[] _masked = [];
    private int[] _shardOf = [];

    public UpdatingAggregateOperator(IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls, Schema schema,
        IReadOnlyList<SqlType> outputTypes, RowErrorLog log, StateMemory memory)
    {
        _keys = keys;
        _schema = schema;
        _log = log;
        _codec = new KeyCodec(keys.Select(k => inputTypes[k]).ToList());
        _keyColumns = new IArrowArray[keys.Count];
        _aggregates = new AggregateSet(calls, inputTypes, outputTypes.Skip(keys.Count).ToList());
        _memory = memory;
        _shards = new UpdatingShard[Math.Max(1, memory.Options.Shards)];
        for (int s = 0; s < _shards.Length; s++) _shards[s] = new UpdatingShard(_aggregates.Empty);
        _touched = new bool[_shards.Length];
        Name = "updating aggregate keys [" + string.Join(", ", schema.FieldsList.Take(keys.Count).Select(f => f.Name)) + "]";
    }

    public string Name { get; }

    private GroupStateCodec StateCodec => _stateCodec ??= new GroupStateCodec(_aggregates.Empty());

    private int ShardOf(ReadOnlySpan<byte> key) => KeyedShard.Of(key, _shards.Length);

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) { _groups = new int[n]; _masked = new int[n]; _shardOf = new int[n]; }
        for (int k = 0; k < _keys.Count; k++) _keyColumns[k] = batch.Column(_keys[k]);
        bool bounded = _memory.Bounded;
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        for (int i = 0; i < n; i++)
        {
            if (HasNullKey(i))
            {
                _groups[i] = -1;
                _shardOf[i] = -1;
                _log.Count(NullKey);
                _log.Sample(NullKey, "a GROUP BY key is NULL");
                continue;
            }
            var key = _codec.Encode(_keyColumns, i);
            int s = ShardOf(key);
            _shardOf[i] = s;
            var shard = _shards[s];
            int id = bounded ? shard.Keys.GetOrAddInPlace(key) : shard.Keys.GetOrAdd(key);
            if (id < 0)
            {
                // rows before this one go into their groups first (and are skipped after), so any table can spill whole
                Update(columns, i);
                _groups.AsSpan(0, i).Fill(-1);
                id = GroupOf(s, key);
            }
            _groups[i] = id;
            shard.MarkChanged(id);
            if (!_touched[s])
            {
                _touched[s] = true;
                _touchedList.Add(s);
            }
        }
        Update(columns, n);
        if (!bounded) return;
        Account();
        _memory.Batch();
    }

    /// <summary>
    /// Reports what the groups in memory take to the execution's budget and, still over it (a budget smaller than the
    /// tables' least size, or taken by other operators), spills every group this operator holds in memory: its tables
    /// keep their size, but hold no more groups than they have room for.
    /// </summary>
    private void Account()
    {
        Report();
        if (!_memory.Over) return;
        _groupBytes = SampleGroupBytes();
        foreach (var shard in _shards) shard.Spill(_memory, StateCodec);
        Report();
    }

    private bool HasNullKey(int row)
    {
        foreach (var column in _keyColumns)
            if (column.IsNull(row)) return true;
        return false;
    }

    /// <summary>Folds rows 0 to <paramref name="rows"/> - 1 of the batch into the groups found for them, and forgets
    /// which shards they touched.</summary>
    private void Update(IArrowArray[] columns, int rows)
    {
        if (_touchedList.Count == 1)
        {
            var only = _shards[_touchedList[0]];
            only.Aggregates.Update(columns, _groups.AsSpan(0, rows), only.Keys.Count);
        }
        else
        {
            foreach (int s in _touchedList)
            {
                var shard = _shards[s];
                for (int i = 0; i < rows; i++) _masked[i] = _shardOf[i] == s ? _groups[i] : -1;
                shard.Aggregates.Update(columns, _masked.AsSpan(0, rows), shard.Keys.Count);
            }
        }
        foreach (int s in _touchedList) _touched[s] = false;
        _touchedList.Clear();
    }

    /// <summary>
    /// The group of a key that a full table of shard <paramref name="index"/> has no room for: in the table grown if
    /// the growth (the new arrays beside the old while they are copied) fits the budget, with the garbage there is or
    /// after a collection; otherwise after spilling the table, emptied in place to go on at the size it has. A shard's
    /// table is never let go for a smaller one: its aggregates count arrivals, which first_value and array_agg order by.
    /// So the state never grows past the budget, and in the steady state (tables filling and spilling) allocates
    /// nothing. Rare: once per doubling of a table or per table's worth of new keys.
    /// </summary>
    private int GroupOf(int index, ReadOnlySpan<byte> key)
    {
        var shard = _shards[index];
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        while (true)
        {
            int id = shard.Keys.GetOrAddInPlace(key);
            if (id >= 0) return id;
            var (added, replaced) = shard.Growth(key.Length, _groupBytes);
            if (shard.Keys.Count == 0 || _memory.Fits(added, replaced))
            {
                _memory.Change(added);
                _held += added;
                _memory.Dropped(replaced);
                return shard.Keys.GetOrAdd(key);
            }
            _groupBytes = SampleGroupBytes();
            shard.Spill(_memory, StateCodec);
            Report();
        }
    }

    private void Report()
    {
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        _held = GroupShards.Report(_memory, _shards, _groupBytes, _held);
    }

    /// <summary>The mean size of a group's aggregates, over up to 64 groups in memory (the last figure while there are none).</summary>
    private long SampleGroupBytes() => GroupShards.SampleGroupBytes(_shards, StateCodec, _groupBytes);

    /// <summary>Emits the current row of every key changed since the last flush: its key columns, then its aggregates
    /// (a batch per shard, or per merged batch of a spilled shard).</summary>
    public void Flush()
    {
        foreach (var shard in _shards) shard.Flush(_memory, StateCodec, MergedGroups, EmitGroups);
        if (!_memory.Bounded) return;
        Report();
        _memory.Batch();
    }

    private void EmitGroups(KeyTable keys, AggregateSet aggregates, ReadOnlySpan<int> ids)
    {
        var columns = new IArrowArray[_keys.Count + _aggregates.Count];
        _codec.Decode(keys, ids).CopyTo(columns, 0);
        aggregates.Result(ids).CopyTo(columns, _keys.Count);
        Emit(new RecordBatch(_schema, columns, ids.Length));
    }

    /// <summary>The end of bounded input: the changes since the last flush.</summary>
    public override void Finish()
    {
        Flush();
        base.Finish();
    }

    /// <summary>The shard count, then each shard's groups as key tables with their aggregates and the ids of those changed
    /// since the last flush (one, or one per merged batch when it spilled), each preceded by true and the last followed by false.</summary>
    public void WriteState(BinaryWriter writer)
    {
        writer.Write(ShardedLayout);
        writer.Write(_shards.Length);
        for (int s = 0; s < _shards.Length; s++) WriteShard(writer, s);
    }

    /// <summary>Nothing but the layout: the groups are written by <see cref="WriteShard"/>, one shard at a time.</summary>
    public void WriteStateApart(BinaryWriter writer) => writer.Write(ApartLayout);

    /// <summary>
    /// Shard <paramref name="shard"/>'s groups: key tables with their aggregates and the ids of those changed (one, or one
    /// per merged batch when the shard spilled), each preceded by true and the last followed by false. A spilled shard
    /// is merged from its runs a batch at a time, so the memory this takes is a batch's, whatever the state.
    /// </summary>
    public void WriteShard(BinaryWriter writer, int shard)
    {
        foreach (var (keys, aggregates, changed) in _shards[shard].Groups(_memory, StateCodec, MergedGroups))
        {
            writer.Write(true);
            keys.Write(writer);
            aggregates.Write(writer, keys.Count);
            writer.Write(changed.Count);
            foreach (int id in changed) writer.Write(id);
        }
        writer.Write(false);
        if (_memory.Bounded) Report();
    }

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot with the shards apart: each key into its shard here.</summary>
    public void ReadShard(BinaryReader reader, int shard, int shards) => ReadGroups(reader, shards == _shards.Length ? shard : -1);

    /// <summary>Reads a snapshot of any shard count (or of the layout before shards, one table), each key into its shard
    /// here; of one with the shards apart, nothing more (<see cref="ReadShard"/> reads the groups).</summary>
    public void ReadState(BinaryReader reader)
    {
        foreach (var shard in _shards) shard.Drop(_memory);
        if (_memory.Bounded) Report();
        int layout = reader.ReadInt32();
        if (layout >= 0)
        {
            // before shards: the key table (its count read already), the aggregates, the ids of the keys changed
            var keys = new KeyTable();
            for (int i = 0; i < layout; i++)
            {
                int id = keys.GetOrAdd(reader.ReadBytes(reader.ReadInt32()), out bool added);
                if (!added || id != i) throw new InvalidDataException("the state holds a group key twice");
            }
            var aggregates = _aggregates.Empty();
            aggregates.Read(reader, keys.Count);
            Place(keys, aggregates, ReadChanged(reader, keys.Count), -1);
        }
        else if (layout == ShardedLayout)
        {
            int shards = reader.ReadInt32();
            if (shards < 1) throw new InvalidDataException($"the state has {shards} shards");
            for (int s = 0; s < shards; s++) ReadGroups(reader, shards == _shards.Length ? s : -1);
        }
        else if (layout != ApartLayout) throw new InvalidDataException($"the state of an updating aggregate has layout {layout}");
    }

    private void ReadGroups(BinaryReader reader, int shard)
    {
        while (reader.ReadBoolean())
        {
            var keys = KeyTable.Read(reader);
            var aggregates = _aggregates.Empty();
            aggregates.Read(reader, keys.Count);
            Place(keys, aggregates, ReadChanged(reader, keys.Count), shard);
        }
    }

    private static int[] ReadChanged(BinaryReader reader, int groups)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > groups) throw new InvalidDataException($"the snapshot names {count} changed keys of {groups}");
        var ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            int id = reader.ReadInt32();
            if (id < 0 || id >= groups) throw new InvalidDataException($"the snapshot names key {id} of {groups}");
            ids[i] = id;
        }
        return ids;
    }

    /// <summary>
    /// Groups read from a snapshot: without a budget, taken whole by their shard here when the snapshot had as many
    /// shards (the hash is the same in every process, so its keys are that shard's) and the shard is empty; otherwise
    /// each key is merged into the shard its hash gives here, spilling as a run would past the budget.
    /// </summary>
    private void Place(KeyTable keys, AggregateSet aggregates, int[] changed, int shard)
    {
        if (!_memory.Bounded && shard >= 0 && _shards[shard].Keys.Count == 0 && !_shards[shard].Spilled)
        {
            _shards[shard].Adopt(keys, aggregates, changed);
            return;
        }
        var isChanged = new bool[keys.Count];
        foreach (int id in changed) isChanged[id] = true;
        for (int id = 0; id < keys.Count; id++)
        {
            var key = keys.Key(id);
            int s = ShardOf(key);
            var target = _shards[s];
            int group = _memory.Bounded ? target.Keys.GetOrAddInPlace(key) : target.Keys.GetOrAdd(key);
            if (group < 0) group = GroupOf(s, key);
            target.Aggregates.Merge(aggregates, id, group);
            if (isChanged[id]) target.MarkChanged(group);
        }
        if (_memory.Bounded) Account();
    }
}
