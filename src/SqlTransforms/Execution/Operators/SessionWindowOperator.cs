using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Session windows: per key, a session runs from its first record's time to its last record's time plus the gap;
/// a record within the gap of a session joins it (extending it), one that bridges two sessions merges them. Keys are
/// split into shards by a hash of the key (<see cref="SessionShard"/>), each session a group of its shard's accumulator
/// set, so merging is one fold of the later session's state into the earlier. A session is emitted when the watermark
/// passes its end.
/// <para>
/// Past the execution's state budget a shard's sessions are spilled to a sorted run of fragments (<see cref="SessionRun"/>);
/// records go on starting and extending sessions in memory, and fragments of one key that overlap are one session, folded
/// when the shard's runs and memory are merged by key. A spilled shard emits at those merges: when the watermark has
/// passed the end of one of its fragments, and it took at least a <see cref="MergeCredit"/>th of its spilled fragments'
/// worth of records since the last merge (or they are at most <see cref="SmallRuns"/>), so the runs are read at most
/// <see cref="MergeCredit"/> fragments per record however often the watermark moves; and at the end of input. What stays
/// open is written back as one run, or taken back into memory when it fits.
/// </para>
/// </summary>
internal sealed class SessionWindowOperator : WindowAggregateOperator, IShardedOperator
{
    /// <summary>Fragments a merge of a spilled shard may read per record the shard took since its last merge.</summary>
    private const int MergeCredit = 16;

    /// <summary>Fragments a merge may read whatever the records: runs this small are merged as soon as a session ends.</summary>
    private const int SmallRuns = 64;

    /// <summary>Written where snapshots before shards had the key count (never negative): every shard follows.</summary>
    private const int ShardedLayout = -1;

    /// <summary>Written there when the shards are apart (<see cref="WriteStateApart"/>, <see cref="WriteShard"/>).</summary>
    private const int ApartLayout = -2;

    private readonly StateMemory _memory;
    private readonly SessionShard[] _shards;
    private readonly SessionShard.Closed _emit;
    private GroupStateCodec? _codec;
    /// <summary>Estimated bytes of one session's aggregates (sampled at each spill), and what this operator holds by that estimate.</summary>
    private long _groupBytes;
    private long _held;
    private int[] _groups = [];
    private int[] _masked = [];
    private int[] _shardOf = [];
    private readonly bool[] _touched;
    private byte[] _buffer = new byte[256];

    public SessionWindowOperator(WindowSpec window, IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls,
        Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log, StateMemory memory)
        : base(window, keys, inputTypes, calls, schema, outputTypes, log)
    {
        _memory = memory;
        _shards = new SessionShard[Math.Max(1, memory.Options.Shards)];
        for (int s = 0; s < _shards.Length; s++) _shards[s] = new SessionShard(NewAggregates);
        _touched = new bool[_shards.Length];
        _emit = EmitSessions;
    }

    private GroupStateCodec StateCodec => _codec ??= new GroupStateCodec(NewAggregates());

    private int ShardOf(ReadOnlySpan<byte> key) => KeyedShard.Of(key, _shards.Length);

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) { _groups = new int[n]; _masked = new int[n]; _shardOf = new int[n]; }
        var timeColumn = batch.Column(WindowSpec.TimeColumn);
        var times = Vectors.Values<long>(timeColumn);
        var keys = KeyColumns(batch);
        long gap = Window.GapMicros;
        bool bounded = _memory.Bounded;
        bool single = _shards.Length == 1;
        var only = _shards[0];
        IArrowArray[]? columns = null;
        for (int i = 0; i < n; i++)
        {
            _groups[i] = -1;
            if (timeColumn.IsNull(i)) continue;
            long t = times[i];
            if (t + gap <= Watermarked) { Late(t); continue; }
            var key = Codec.Encode(keys, i);
            var shard = only;
            int index = 0;
            if (!single)
            {
                index = ShardOf(key);
                shard = _shards[index];
                _shardOf[i] = index;
            }
            if (!bounded)
            {
                _groups[i] = shard.Add(shard.AddKey(key), t, t + gap, grow: true);
                _touched[index] = true;
                continue;
            }
            shard.Records++;
            if (t < Watermarked && shard.Spilled && shard.MinEnd <= Watermarked)
            {
                // behind the watermark, the record could reach a session that ended (emitted when in memory, not yet when
                // spilled): the shard's ended sessions go out first, so it does not join them
                Fold(columns ??= Columns(batch), i);
                Merge(shard, Watermarked);
            }
            _groups[i] = AddBounded(shard, key, t, t + gap, columns ??= Columns(batch), i);
            _touched[index] = true; // after: making room folds the rows before and marks their shards done
        }
        Fold(columns ?? Columns(batch), n);
        if (!bounded) return;
        Report();
        MergeDue(Watermarked);
        _memory.Batch();
    }

    /// <summary>Folds rows 0 to <paramref name="rows"/> - 1 of the batch into the sessions found for them, and marks them done.</summary>
    private void Fold(IArrowArray[] columns, int rows)
    {
        if (rows == 0) return;
        if (_shards.Length == 1)
        {
            var only = _shards[0];
            for (int i = 0; i < rows; i++)
                if (_groups[i] >= 0) _groups[i] = only.Resolve(_groups[i]);
            only.Aggregates.Update(columns, _groups.AsSpan(0, rows), only.Sessions);
            only.ReleaseMerged();
        }
        else
        {
            for (int s = 0; s < _shards.Length; s++)
            {
                if (!_touched[s]) continue;
                _touched[s] = false;
                var shard = _shards[s];
                for (int i = 0; i < rows; i++) _masked[i] = _groups[i] >= 0 && _shardOf[i] == s ? shard.Resolve(_groups[i]) : -1;
                shard.Aggregates.Update(columns, _masked.AsSpan(0, rows), shard.Sessions);
                shard.ReleaseMerged();
            }
        }
        _groups.AsSpan(0, rows).Fill(-1);
    }

    /// <summary>The session of [<paramref name="start"/>, <paramref name="end"/>) of a key, within the budget: the
    /// tables grow only when that fits (<see cref="MakeRoom"/>).</summary>
    private int AddBounded(SessionShard shard, ReadOnlySpan<byte> key, long start, long end, IArrowArray[]? columns, int row)
    {
        while (true)
        {
            int id = shard.KeyInPlace(key);
            if (id >= 0)
            {
                int session = shard.Add(id, start, end, grow: false);
                if (session >= 0) return session;
            }
            MakeRoom(shard, key, id < 0, columns, row);
        }
    }

    /// <summary>
    /// Room in a full shard for a new key (<paramref name="needKey"/>) or session, at row <paramref name="row"/> of a batch:
    /// the shard's arrays grow if that fits the budget (with the garbage there is, or after a collection); otherwise what
    /// holds most is spilled, this shard emptied in place to go on at its size, or another let go. The rows before this
    /// one are folded into their sessions first (and skipped after), so any shard can be spilled whole. Rare: once per
    /// doubling of a shard's arrays or per shard's worth of new sessions.
    /// </summary>
    private void MakeRoom(SessionShard shard, ReadOnlySpan<byte> key, bool needKey, IArrowArray[]? columns, int row)
    {
        if (columns is not null) Fold(columns, row);
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        var (added, replaced) = needKey ? shard.KeyGrowth(key.Length) : shard.SessionGrowth(_groupBytes);
        var victim = Largest(shard, needKey);
        if (victim is null || _memory.Fits(added, replaced))
        {
            _memory.Change(added);
            _held += added;
            _memory.Dropped(replaced);
            if (needKey) shard.AddKey(key);
            else shard.GrowSessions();
            return;
        }
        _groupBytes = SampleGroupBytes();
        if (victim == shard) shard.Spill(_memory, StateCodec, keep: true);
        else
        {
            long bytes = victim.Bytes(_groupBytes);
            victim.Spill(_memory, StateCodec, keep: false);
            Report();
            _memory.Dropped(bytes);
        }
        Report();
    }

    /// <summary>Of <paramref name="asking"/> (when spilling it makes room: it has sessions, or keys when a key is wanted)
    /// and the other shards, the one holding the most in memory, <paramref name="asking"/> on a tie; null if none.</summary>
    private SessionShard? Largest(SessionShard asking, bool needKey)
    {
        SessionShard? largest = asking.LiveSessions > 0 || (needKey && asking.Keys.Count > 0) ? asking : null;
        long most = largest is null ? 0 : asking.Bytes(_groupBytes);
        foreach (var shard in _shards)
            if (shard != asking && shard.Grown && shard.Bytes(_groupBytes) is var bytes && bytes > most)
            {
                largest = shard;
                most = bytes;
            }
        return largest;
    }

    private void Report()
    {
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        _held = GroupShards.Report(_memory, _shards, _groupBytes, _held);
    }

    /// <summary>The mean size of a session's aggregates, over up to 64 sessions in memory (the last estimate while there are none).</summary>
    private long SampleGroupBytes() => GroupShards.SampleGroupBytes(_shards, StateCodec, _groupBytes);

    protected override void EmitUntil(long watermark)
    {
        foreach (var shard in _shards)
        {
            long dropped = shard.EmitClosed(watermark, _emit);
            if (dropped > 0 && _memory.Bounded)
            {
                Report();
                _memory.Dropped(dropped);
            }
        }
        MergeDue(watermark);
    }

    /// <summary>Merges the spilled shards that have a session ended by <paramref name="watermark"/>, at the rate
    /// <see cref="MergeCredit"/> allows; every one at <see cref="long.MaxValue"/> (the end of input).</summary>
    private void MergeDue(long watermark)
    {
        foreach (var shard in _shards)
            if (shard.Spilled && watermark >= shard.MinEnd
                && (watermark == long.MaxValue || shard.RunRows <= MergeCredit * shard.Records + SmallRuns))
                Merge(shard, watermark);
    }

    /// <summary>
    /// Emits the shard's sessions that end by <paramref name="watermark"/> from its runs and memory merged; what stays
    /// open is one run, or, when it fits the budget (a table about twice its size), back in memory.
    /// </summary>
    private void Merge(SessionShard shard, long watermark)
    {
        Merges++;
        shard.Merge(_memory, StateCodec, watermark, _emit);
        if (_memory.Bounded) Report();
        if (shard.Runs is not [var run] || !_memory.Fits(2 * run.Rows * (SessionShard.SessionBytes + _groupBytes + 32), 0)) return;
        foreach (var back in shard.TakeRuns())
        {
            using (var reader = new SessionRun.Reader(back.Path))
                while (reader.Next()) Place(reader.Key, reader.Start, reader.End, reader.State);
            _memory.Delete(back.Path);
        }
        Report();
    }

    private void EmitSessions(ReadOnlySpan<long> starts, ReadOnlySpan<long> ends, KeyTable keys, int[] keyIds, AggregateSet aggregates, int[] groups) =>
        EmitRows(starts, ends, Codec.Decode(keys, keyIds), aggregates.Result(groups));

    /// <summary>A session or fragment read back (from a snapshot or a run) into its key's shard here, folded into the
    /// sessions it overlaps; over the budget, what is in memory spills as it would in a run.</summary>
    private void Place(ReadOnlySpan<byte> key, long start, long end, ReadOnlySpan<byte> state)
    {
        var shard = _shards[ShardOf(key)];
        int session = _memory.Bounded ? AddBounded(shard, key, start, end, null, 0) : shard.Add(shard.AddKey(key), start, end, grow: true);
        StateCodec.MergeInto(state, shard.Aggregates, session);
        shard.ReleaseMerged();
    }

    /// <summary>Merges of spilled shards so far (for tests of their rate).</summary>
    internal int Merges { get; private set; }

    /// <summary>Keys held (for tests of the state's bounds).</summary>
    internal int KeyCount => _shards.Sum(s => s.Keys.Count);

    /// <summary>The first shard's aggregates (for tests of the state's bounds, with one shard).</summary>
    internal AggregateSet Aggregates => _shards[0].Aggregates;

    /// <summary>The watermark, then every shard's sessions and fragments (<see cref="WriteShard"/>).</summary>
    public override void WriteState(BinaryWriter writer)
    {
        writer.Write(Watermarked);
        writer.Write(ShardedLayout);
        writer.Write(_shards.Length);
        for (int s = 0; s < _shards.Length; s++) WriteShard(writer, s);
    }

    /// <summary>The watermark; the sessions are written by <see cref="WriteShard"/>, one shard at a time.</summary>
    public void WriteStateApart(BinaryWriter writer)
    {
        writer.Write(Watermarked);
        writer.Write(ApartLayout);
    }

    /// <summary>
    /// Shard <paramref name="shard"/>'s sessions in memory and fragments in runs, each as true and key, start, end and
    /// state; then false. Runs are read a batch at a time, so this holds a batch, whatever the state; fragments of a key
    /// that overlap are folded when read back.
    /// </summary>
    public void WriteShard(BinaryWriter writer, int shard) => _shards[shard].WriteFragments(writer, StateCodec);

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot: each key into its shard here.</summary>
    public void ReadShard(BinaryReader reader, int shard, int shards)
    {
        while (reader.ReadBoolean())
        {
            int keyLength = ReadLength(reader);
            ReadBytes(reader, 0, keyLength);
            long start = reader.ReadInt64();
            long end = reader.ReadInt64();
            int stateLength = ReadLength(reader);
            ReadBytes(reader, keyLength, stateLength);
            Place(_buffer.AsSpan(0, keyLength), start, end, _buffer.AsSpan(keyLength, stateLength));
        }
        if (_memory.Bounded) Report();
    }

    private static int ReadLength(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length < 0) throw new InvalidDataException($"the state has a session of {length} bytes");
        return length;
    }

    /// <summary>Reads <paramref name="length"/> bytes into the reused buffer at <paramref name="offset"/>.</summary>
    private void ReadBytes(BinaryReader reader, int offset, int length)
    {
        if (_buffer.Length < offset + length) Array.Resize(ref _buffer, Math.Max(offset + length, _buffer.Length * 2));
        for (int n; length > 0; offset += n, length -= n)
            if ((n = reader.Read(_buffer, offset, length)) == 0) throw new EndOfStreamException();
    }

    /// <summary>Reads a snapshot of any shard count (or of the layout before shards), each key into its shard here; of
    /// one with the shards apart, the watermark, whose sessions <see cref="ReadShard"/> reads.</summary>
    public override void ReadState(BinaryReader reader)
    {
        Watermarked = reader.ReadInt64();
        foreach (var shard in _shards) shard.Drop(_memory);
        if (_memory.Bounded) Report();
        int layout = reader.ReadInt32();
        if (layout >= 0) ReadUnsharded(reader, layout);
        else if (layout == ShardedLayout)
        {
            int shards = reader.ReadInt32();
            if (shards < 1) throw new InvalidDataException($"the state has {shards} shards");
            for (int s = 0; s < shards; s++) ReadShard(reader, s, shards);
        }
        else if (layout != ApartLayout) throw new InvalidDataException($"the state has a session window of layout {layout}");
    }

    /// <summary>The layout before shards: the key table (of <paramref name="keyCount"/> keys, already read), each key's
    /// first session, each session with its list link, the free list and the aggregates; the live sessions are placed.</summary>
    private void ReadUnsharded(BinaryReader reader, int keyCount)
    {
        var keys = new byte[keyCount][];
        for (int k = 0; k < keyCount; k++) keys[k] = reader.ReadBytes(ReadLength(reader));
        for (int k = 0; k < keyCount; k++) reader.ReadInt32();
        int sessions = reader.ReadInt32();
        var alive = new bool[sessions];
        var start = new long[sessions];
        var end = new long[sessions];
        var key = new int[sessions];
        for (int s = 0; s < sessions; s++)
        {
            alive[s] = reader.ReadBoolean();
            start[s] = reader.ReadInt64();
            end[s] = reader.ReadInt64();
            key[s] = reader.ReadInt32();
            reader.ReadInt32();
            if (alive[s] && (key[s] < 0 || key[s] >= keyCount)) throw new InvalidDataException($"the state has a session of key {key[s]} of {keyCount}");
        }
        int free = reader.ReadInt32();
        for (int i = 0; i < free; i++) reader.ReadInt32();
        var aggregates = NewAggregates();
        aggregates.Read(reader, sessions);
        var codec = new GroupStateCodec(NewAggregates());
        for (int s = 0; s < sessions; s++)
            if (alive[s]) Place(keys[key[s]], start[s], end[s], codec.Encode(aggregates, s));
        if (_memory.Bounded) Report();
    }
}
