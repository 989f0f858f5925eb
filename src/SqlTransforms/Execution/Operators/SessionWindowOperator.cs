using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Session windows: per key, a session runs from its first record's time to its last record's time plus the gap;
/// a record within the gap of a session joins it (extending it), one that bridges two sessions merges them. Each
/// session is a group of one accumulator set (ids reused once emitted), so merging is one fold of the later
/// session's state into the earlier. A session is emitted when the watermark passes its end.
/// </summary>
internal sealed class SessionWindowOperator : WindowAggregateOperator
{
    private KeyTable _keys = new();
    private int _liveKeys;             // keys with at least one open session
    private readonly AggregateSet _aggregates;
    private int[] _head = [];          // per key: its first session, or -1
    private long[] _start = [];
    private long[] _end = [];
    private int[] _key = [];
    private int[] _next = [];          // the key's next session, or -1
    private int[] _redirect = [];      // a session merged away this batch: the session it went into
    private bool[] _alive = [];
    private int _sessions;             // ids handed out (alive or free)
    private readonly Stack<int> _free = new();
    private readonly List<int> _merged = [];
    private long _minEnd = long.MaxValue;
    private int[] _groups = [];

    public SessionWindowOperator(WindowSpec window, IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls,
        Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log)
        : base(window, keys, inputTypes, calls, schema, outputTypes, log)
    {
        _aggregates = NewAggregates();
    }

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) _groups = new int[n];
        var timeColumn = batch.Column(WindowSpec.TimeColumn);
        var times = Vectors.Values<long>(timeColumn);
        var keys = KeyColumns(batch);
        long gap = Window.GapMicros;
        for (int i = 0; i < n; i++)
        {
            _groups[i] = -1;
            if (timeColumn.IsNull(i)) continue;
            long t = times[i];
            if (t + gap <= Watermarked) { Late(t); continue; }
            int key = _keys.GetOrAdd(Codec.Encode(keys, i), out bool added);
            if (added) { GroupArrays.Grow(ref _head, key + 1); _head[key] = -1; }
            int target = -1;
            for (int s = _head[key], previous = -1; s >= 0;)
            {
                int following = _next[s];
                if (t < _end[s] && t + gap > _start[s])
                {
                    if (target < 0) target = s;
                    else
                    {
                        // the record bridges two sessions: the later one folds into the first
                        _start[target] = Math.Min(_start[target], _start[s]);
                        _end[target] = Math.Max(_end[target], _end[s]);
                        _aggregates.Merge(_aggregates, s, target);
                        _alive[s] = false;
                        _redirect[s] = target;
                        _merged.Add(s);
                        if (previous < 0) _head[key] = following; else _next[previous] = following;
                        s = following;
                        continue;
                    }
                }
                previous = s;
                s = following;
            }
            if (target < 0) target = NewSession(key, t, t + gap);
            else
            {
                _start[target] = Math.Min(_start[target], t);
                _end[target] = Math.Max(_end[target], t + gap);
            }
            _groups[i] = target;
        }
        for (int i = 0; i < n; i++)
        {
            int g = _groups[i];
            if (g < 0) continue;
            while (_redirect[g] != g) g = _redirect[g];
            _groups[i] = g;
        }
        _aggregates.Update(Columns(batch), _groups.AsSpan(0, n), _sessions);
        foreach (int s in _merged) Release(s);
        _merged.Clear();
    }

    private int NewSession(int key, long start, long end)
    {
        int s;
        if (_free.Count > 0) s = _free.Pop();
        else
        {
            s = _sessions++;
            GroupArrays.Grow(ref _start, _sessions);
            GroupArrays.Grow(ref _end, _sessions);
            GroupArrays.Grow(ref _key, _sessions);
            GroupArrays.Grow(ref _next, _sessions);
            GroupArrays.Grow(ref _redirect, _sessions);
            GroupArrays.Grow(ref _alive, _sessions);
        }
        _start[s] = start;
        _end[s] = end;
        _key[s] = key;
        _alive[s] = true;
        _redirect[s] = s;
        if (_head[key] < 0) _liveKeys++;
        _next[s] = _head[key];
        _head[key] = s;
        _minEnd = Math.Min(_minEnd, end);
        return s;
    }

    private void Release(int s)
    {
        _aggregates.Clear(s);
        _alive[s] = false;
        _redirect[s] = s;
        _free.Push(s);
    }

    protected override void EmitUntil(long watermark)
    {
        if (watermark < _minEnd) return; // no session ends by then: skip the scan
        var closed = new List<int>();
        long minEnd = long.MaxValue;
        for (int s = 0; s < _sessions; s++)
        {
            if (!_alive[s]) continue;
            if (_end[s] <= watermark) closed.Add(s);
            else minEnd = Math.Min(minEnd, _end[s]);
        }
        _minEnd = minEnd;
        if (closed.Count == 0) return;
        closed.Sort((a, b) => _end[a] != _end[b] ? _end[a].CompareTo(_end[b]) : _start[a] != _start[b] ? _start[a].CompareTo(_start[b]) : _key[a].CompareTo(_key[b]));
        var ids = closed.ToArray();
        var starts = new long[ids.Length];
        var ends = new long[ids.Length];
        var keyIds = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++) { starts[i] = _start[ids[i]]; ends[i] = _end[ids[i]]; keyIds[i] = _key[ids[i]]; }
        var results = _aggregates.Result(ids);
        var keys = Codec.Decode(_keys, keyIds);
        foreach (int s in ids)
        {
            int key = _key[s];
            for (int x = _head[key], previous = -1; x >= 0; previous = x, x = _next[x])
                if (x == s) { if (previous < 0) _head[key] = _next[x]; else _next[previous] = _next[x]; break; }
            if (_head[key] < 0) _liveKeys--;
            Release(s);
        }
        EmitRows(starts, ends, keys, results);
        if (_keys.Count > 1024 && _liveKeys * 2 < _keys.Count) CompactKeys();
    }

    /// <summary>Keys whose sessions have all been emitted are forgotten: a new table of the live ones, in the same order.</summary>
    private void CompactKeys()
    {
        var keys = new KeyTable();
        var head = new int[Math.Max(16, _liveKeys)];
        var map = new int[_keys.Count];
        for (int k = 0; k < _keys.Count; k++)
        {
            map[k] = -1;
            if (_head[k] < 0) continue;
            map[k] = keys.GetOrAdd(_keys.Key(k));
            head[map[k]] = _head[k];
        }
        for (int s = 0; s < _sessions; s++)
            if (_alive[s]) _key[s] = map[_key[s]];
        _keys = keys;
        _head = head;
    }

    /// <summary>Keys held (for tests of the state's bounds).</summary>
    internal int KeyCount => _keys.Count;

    internal AggregateSet Aggregates => _aggregates;

    public override void WriteState(BinaryWriter writer)
    {
        // everything, free list and list order included, so a restored run merges and reuses exactly as this one would
        writer.Write(Watermarked);
        _keys.Write(writer);
        for (int k = 0; k < _keys.Count; k++) writer.Write(_head[k]);
        writer.Write(_sessions);
        for (int s = 0; s < _sessions; s++)
        {
            writer.Write(_alive[s]);
            writer.Write(_start[s]);
            writer.Write(_end[s]);
            writer.Write(_key[s]);
            writer.Write(_next[s]);
        }
        var free = _free.ToArray();
        writer.Write(free.Length);
        for (int i = free.Length - 1; i >= 0; i--) writer.Write(free[i]);
        _aggregates.Write(writer, _sessions);
    }

    public override void ReadState(BinaryReader reader)
    {
        Watermarked = reader.ReadInt64();
        _keys = KeyTable.Read(reader);
        _head = new int[Math.Max(16, _keys.Count)];
        _liveKeys = 0;
        for (int k = 0; k < _keys.Count; k++) if ((_head[k] = reader.ReadInt32()) >= 0) _liveKeys++;
        _sessions = reader.ReadInt32();
        int size = Math.Max(16, _sessions);
        _start = new long[size];
        _end = new long[size];
        _key = new int[size];
        _next = new int[size];
        _redirect = new int[size];
        _alive = new bool[size];
        _minEnd = long.MaxValue;
        for (int s = 0; s < _sessions; s++)
        {
            _alive[s] = reader.ReadBoolean();
            _start[s] = reader.ReadInt64();
            _end[s] = reader.ReadInt64();
            _key[s] = reader.ReadInt32();
            _next[s] = reader.ReadInt32();
            _redirect[s] = s;
            if (_alive[s]) _minEnd = Math.Min(_minEnd, _end[s]);
        }
        _free.Clear();
        int free = reader.ReadInt32();
        for (int i = 0; i < free; i++) _free.Push(reader.ReadInt32());
        _aggregates.Read(reader, _sessions);
    }
}
