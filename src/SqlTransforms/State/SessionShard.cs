using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// One shard of a session window's state: per key, its sessions in memory (each a group of one accumulator set, ids
/// reused once emitted), and what was spilled from them as sorted runs of session fragments (<see cref="SessionRun"/>).
/// A session is the span [start, end) of its records, end being the last record's time plus the gap; a record or a
/// fragment overlapping sessions of its key joins them, folding their states. Once spilled, a key's sessions may be in
/// several runs and in memory at once, so a spilled shard emits only when its runs are merged (<see cref="Merge"/>).
/// </summary>
internal sealed class SessionShard(Func<AggregateSet> empty) : IGroupShard
{
    /// <summary>Bytes a session takes beside its aggregates: start, end, key, next, redirect, alive.</summary>
    public const int SessionBytes = 8 + 8 + 4 + 4 + 4 + 1;

    /// <summary>The sessions a merge emits at once (<see cref="Closed"/>).</summary>
    public delegate void Closed(ReadOnlySpan<long> starts, ReadOnlySpan<long> ends, KeyTable keys, int[] keyIds, AggregateSet aggregates, int[] groups);

    private readonly List<SessionRun> _runs = [];
    private int[] _head = NewHeads();   // per key: its first session, or -1
    private long[] _start = [];
    private long[] _end = [];
    private int[] _key = [];
    private int[] _next = [];           // the key's next session, or -1
    private int[] _redirect = [];       // a session merged away this batch: the session it went into
    private bool[] _alive = [];
    private int _sessions;              // ids handed out (alive or free)
    private int _liveKeys;              // keys with at least one open session
    private readonly Stack<int> _free = new();
    private readonly List<int> _merged = [];
    private long _minEnd = long.MaxValue; // no session in memory ends before this
    private long _runsMinEnd = long.MaxValue;

    public KeyTable Keys { get; private set; } = new();
    public AggregateSet Aggregates { get; private set; } = empty();

    /// <summary>Session ids handed out (alive or free): the group count of <see cref="Aggregates"/>.</summary>
    public int Sessions => _sessions;

    public int LiveSessions => _sessions - _free.Count;

    public bool Alive(int session) => _alive[session];

    int IGroupShard.Groups => _sessions;

    bool IGroupShard.Holds(int group) => _alive[group];

    public bool Spilled => _runs.Count > 0;

    public IReadOnlyList<SessionRun> Runs => _runs;

    /// <summary>Fragments in the runs.</summary>
    public long RunRows { get; private set; }

    /// <summary>Records taken since the runs were last merged (a merge reads the runs: see the operator's rate of merges).</summary>
    public long Records { get; set; }

    /// <summary>No session or fragment of this shard ends before this.</summary>
    public long MinEnd => Math.Min(_minEnd, _runsMinEnd);

    /// <summary>Whether it holds memory beyond a new shard's: sessions, keys, or room a spill emptied.</summary>
    public bool Grown => Keys.Count > 0 || Keys.Capacity > KeyTable.InitialCapacity || _start.Length > 0;

    /// <summary>An estimate of the memory held: the key table, the heads and the sessions' arrays at their capacity, and
    /// the aggregates at <paramref name="groupBytes"/> a session for as many as the arrays have room for.</summary>
    public long Bytes(long groupBytes) => Keys.Bytes + _head.Length * 4L + _start.Length * (SessionBytes + groupBytes);

    private static int[] NewHeads() => new int[KeyTable.InitialCapacity];

    /// <summary>What adding a key of <paramref name="length"/> bytes to a full table allocates, the heads included.</summary>
    public (long Added, long Replaced) KeyGrowth(int length)
    {
        var (added, replaced) = Keys.Growth(length);
        if (Keys.Count >= _head.Length)
        {
            added += Math.Max(16, _head.Length) * 4L;
            replaced += _head.Length * 4L;
        }
        return (added, replaced);
    }

    /// <summary>What room for one more session allocates (the arrays double), its aggregates at <paramref name="groupBytes"/>.</summary>
    public (long Added, long Replaced) SessionGrowth(long groupBytes)
    {
        if (_free.Count > 0 || _sessions < _start.Length) return (0, 0);
        long capacity = _start.Length;
        return (Math.Max(16, capacity) * (SessionBytes + groupBytes), capacity * (SessionBytes + groupBytes));
    }

    /// <summary>The id of a key, added (growing the table) if new.</summary>
    public int AddKey(ReadOnlySpan<byte> key)
    {
        int id = Keys.GetOrAdd(key, out bool added);
        if (added) { GroupArrays.Grow(ref _head, id + 1); _head[id] = -1; }
        return id;
    }

    /// <summary>The id of a key, added if the table has room; -1 if it would have to grow.</summary>
    public int KeyInPlace(ReadOnlySpan<byte> key)
    {
        int count = Keys.Count;
        int id = Keys.GetOrAddInPlace(key);
        if (id >= 0 && Keys.Count > count)
        {
            GroupArrays.Grow(ref _head, id + 1); // within the room KeyGrowth counted
            _head[id] = -1;
        }
        return id;
    }

    /// <summary>Room for one more session: the arrays doubled.</summary>
    public void GrowSessions()
    {
        int size = Math.Max(16, _start.Length * 2);
        Array.Resize(ref _start, size);
        Array.Resize(ref _end, size);
        Array.Resize(ref _key, size);
        Array.Resize(ref _next, size);
        Array.Resize(ref _redirect, size);
        Array.Resize(ref _alive, size);
    }

    /// <summary>
    /// Puts [<paramref name="start"/>, <paramref name="end"/>) of key <paramref name="key"/> into its sessions: it joins
    /// those it overlaps (extending the first, the others folded into it and released at <see cref="ReleaseMerged"/>), or
    /// starts one. Answers the session; -1 when it needs a new one and, without <paramref name="grow"/>, there is no room
    /// (nothing changed then).
    /// </summary>
    public int Add(int key, long start, long end, bool grow)
    {
        int target = -1;
        for (int s = _head[key], previous = -1; s >= 0;)
        {
            int following = _next[s];
            if (start < _end[s] && end > _start[s])
            {
                if (target < 0) target = s;
                else
                {
                    // it bridges two sessions: the later one folds into the first
                    _start[target] = Math.Min(_start[target], _start[s]);
                    _end[target] = Math.Max(_end[target], _end[s]);
                    Aggregates.Merge(Aggregates, s, target);
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
        if (target >= 0)
        {
            _start[target] = Math.Min(_start[target], start);
            _end[target] = Math.Max(_end[target], end);
            return target;
        }
        if (!grow && _free.Count == 0 && _sessions == _start.Length) return -1;
        return NewSession(key, start, end);
    }

    /// <summary>The session a session of this batch went into.</summary>
    public int Resolve(int session)
    {
        while (_redirect[session] != session) session = _redirect[session];
        return session;
    }

    /// <summary>Releases the sessions merged away since the last call (once the rows pointing at them are resolved).</summary>
    public void ReleaseMerged()
    {
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
            if (_start.Length < _sessions) GrowSessions();
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
        Aggregates.Clear(s);
        _alive[s] = false;
        _redirect[s] = s;
        _free.Push(s);
    }

    /// <summary>
    /// Emits the sessions in memory that end by <paramref name="watermark"/> and releases them, when nothing spilled (a
    /// spilled shard emits at <see cref="Merge"/>). Answers the bytes of key arrays let go when the keys of emitted
    /// sessions were forgotten.
    /// </summary>
    public long EmitClosed(long watermark, Closed emit)
    {
        if (watermark < _minEnd || Spilled) return 0; // no session ends by then: skip the scan
        var closed = new List<int>();
        long minEnd = long.MaxValue;
        for (int s = 0; s < _sessions; s++)
        {
            if (!_alive[s]) continue;
            if (_end[s] <= watermark) closed.Add(s);
            else minEnd = Math.Min(minEnd, _end[s]);
        }
        _minEnd = minEnd;
        if (closed.Count == 0) return 0;
        closed.Sort((a, b) => _end[a] != _end[b] ? _end[a].CompareTo(_end[b]) : _start[a] != _start[b] ? _start[a].CompareTo(_start[b]) : _key[a].CompareTo(_key[b]));
        var ids = closed.ToArray();
        var starts = new long[ids.Length];
        var ends = new long[ids.Length];
        var keyIds = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++) { starts[i] = _start[ids[i]]; ends[i] = _end[ids[i]]; keyIds[i] = _key[ids[i]]; }
        emit(starts, ends, Keys, keyIds, Aggregates, ids);
        foreach (int s in ids)
        {
            int key = _key[s];
            for (int x = _head[key], previous = -1; x >= 0; previous = x, x = _next[x])
                if (x == s) { if (previous < 0) _head[key] = _next[x]; else _next[previous] = _next[x]; break; }
            if (_head[key] < 0) _liveKeys--;
            Release(s);
        }
        return Keys.Count > 1024 && _liveKeys * 2 < Keys.Count ? CompactKeys() : 0;
    }

    /// <summary>Keys whose sessions have all been emitted are forgotten: a new table of the live ones, in the same order.
    /// Answers the bytes of the arrays let go.</summary>
    private long CompactKeys()
    {
        long before = Keys.Bytes + _head.Length * 4L;
        var keys = new KeyTable();
        var head = new int[Math.Max(KeyTable.InitialCapacity, _liveKeys)];
        var map = new int[Keys.Count];
        for (int k = 0; k < Keys.Count; k++)
        {
            map[k] = -1;
            if (_head[k] < 0) continue;
            map[k] = keys.GetOrAdd(Keys.Key(k));
            head[map[k]] = _head[k];
        }
        for (int s = 0; s < _sessions; s++)
            if (_alive[s]) _key[s] = map[_key[s]];
        Keys = keys;
        _head = head;
        return before;
    }

    /// <summary>
    /// Writes the sessions in memory as a sorted run (by key, then start); then, with <paramref name="keep"/>, empties
    /// the table, the sessions and their aggregates in place (the shard goes on filling them, at no new allocation),
    /// otherwise lets them go for new ones.
    /// </summary>
    public void Spill(StateMemory memory, GroupStateCodec codec, bool keep)
    {
        if (LiveSessions > 0)
        {
            var ids = new int[LiveSessions];
            int n = 0;
            for (int s = 0; s < _sessions; s++)
                if (_alive[s]) ids[n++] = s;
            Array.Sort(ids, (a, b) =>
            {
                int c = Keys.Key(_key[a]).SequenceCompareTo(Keys.Key(_key[b]));
                return c != 0 ? c : _start[a].CompareTo(_start[b]);
            });
            using var run = new SessionRun.Writer(memory);
            foreach (int s in ids) run.Add(Keys.Key(_key[s]), _start[s], _end[s], codec.Encode(Aggregates, s));
            if (run.Finish() is { } written) AddRun(written);
        }
        Empty(keep);
    }

    private void AddRun(SessionRun run)
    {
        _runs.Add(run);
        RunRows += run.Rows;
        _runsMinEnd = Math.Min(_runsMinEnd, run.MinEnd);
    }

    private void Empty(bool keep)
    {
        if (keep)
        {
            Aggregates.Reset(_sessions);
            Keys.Clear();
        }
        else
        {
            Keys = new KeyTable();
            Aggregates = empty();
            _head = NewHeads();
            _start = [];
            _end = [];
            _key = [];
            _next = [];
            _redirect = [];
            _alive = [];
        }
        Array.Fill(_alive, false);
        _sessions = 0;
        _liveKeys = 0;
        _free.Clear();
        _merged.Clear();
        _minEnd = long.MaxValue;
    }

    /// <summary>
    /// Merges the shard's sessions (those in memory spilled first) and its runs by key a batch at a time: a key's fragments
    /// sorted by start, those that overlap folded into one session; the sessions that end by <paramref name="watermark"/>
    /// are emitted, the others written as one new run that replaces the old ones (deleted). Holds a batch per run and a
    /// batch of keys, whatever the runs hold. More than <see cref="RunReader.MaxMergeWidth"/> runs are first merged into
    /// fewer, emitting nothing.
    /// </summary>
    public void Merge(StateMemory memory, GroupStateCodec codec, long watermark, Closed emit)
    {
        Spill(memory, codec, keep: true);
        while (_runs.Count > RunReader.MaxMergeWidth)
        {
            var first = _runs.GetRange(0, RunReader.MaxMergeWidth);
            _runs.RemoveRange(0, first.Count);
            var merged = MergeRuns(memory, codec, first, long.MinValue, null);
            foreach (var run in first) memory.Delete(run.Path);
            if (merged is not null) _runs.Insert(0, merged);
        }
        var all = _runs.ToList();
        _runs.Clear();
        RunRows = 0;
        _runsMinEnd = long.MaxValue;
        var open = MergeRuns(memory, codec, all, watermark, emit);
        foreach (var run in all) memory.Delete(run.Path);
        if (open is not null) AddRun(open);
        Records = 0;
    }

    /// <summary>Takes the runs away from the shard (the caller reads them back and deletes them).</summary>
    public List<SessionRun> TakeRuns()
    {
        var runs = _runs.ToList();
        _runs.Clear();
        RunRows = 0;
        _runsMinEnd = long.MaxValue;
        return runs;
    }

    private SessionRun? MergeRuns(StateMemory memory, GroupStateCodec codec, List<SessionRun> runs, long watermark, Closed? emit)
    {
        using var writer = new SessionRun.Writer(memory);
        var sources = new SessionRun.Reader[runs.Count];
        try
        {
            for (int r = 0; r < sources.Length; r++) sources[r] = new SessionRun.Reader(runs[r].Path);
            var queue = RunReader.ByKey(sources);
            var keys = new KeyTable();
            var set = empty();
            int groups = 0;
            var starts = new long[RunWriter.BatchRows];
            var ends = new long[RunWriter.BatchRows];
            var order = new int[16];
            var closedStarts = new List<long>();
            var closedEnds = new List<long>();
            var closedKeys = new List<int>();
            var closedGroups = new List<int>();
            var current = new byte[64];
            int currentLength = -1, keyId = -1, first = 0;

            void Close(int g)
            {
                if (emit is not null && ends[g] <= watermark)
                {
                    closedStarts.Add(starts[g]);
                    closedEnds.Add(ends[g]);
                    closedKeys.Add(keyId);
                    closedGroups.Add(g);
                }
                else writer.Add(current.AsSpan(0, currentLength), starts[g], ends[g], codec.Encode(set, g));
            }

            void FinishKey()
            {
                int n = groups - first;
                if (order.Length < n) order = new int[Math.Max(n, order.Length * 2)];
                for (int i = 0; i < n; i++)
                {
                    // insertion sort by start: a key has few fragments
                    int g = first + i, j = i;
                    while (j > 0 && starts[order[j - 1]] > starts[g]) { order[j] = order[j - 1]; j--; }
                    order[j] = g;
                }
                int session = order[0];
                for (int i = 1; i < n; i++)
                {
                    int g = order[i];
                    if (starts[g] < ends[session])
                    {
                        set.Merge(set, g, session);
                        ends[session] = Math.Max(ends[session], ends[g]);
                    }
                    else
                    {
                        Close(session);
                        session = g;
                    }
                }
                Close(session);
            }

            void Flush()
            {
                if (closedGroups.Count > 0)
                    emit!(closedStarts.ToArray(), closedEnds.ToArray(), keys, closedKeys.ToArray(), set, closedGroups.ToArray());
                keys = new KeyTable();
                set = empty();
                groups = 0;
                closedStarts.Clear();
                closedEnds.Clear();
                closedKeys.Clear();
                closedGroups.Clear();
            }

            while (queue.Count > 0)
            {
                int r = queue.Dequeue();
                var source = sources[r];
                if (currentLength < 0 || !source.Key.SequenceEqual(current.AsSpan(0, currentLength)))
                {
                    if (currentLength >= 0) FinishKey();
                    if (groups >= RunWriter.BatchRows) Flush();
                    var key = source.Key;
                    if (current.Length < key.Length) current = new byte[Math.Max(key.Length, current.Length * 2)];
                    key.CopyTo(current);
                    currentLength = key.Length;
                    keyId = keys.GetOrAdd(key);
                    first = groups;
                }
                int group = groups++;
                if (starts.Length < groups)
                {
                    Array.Resize(ref starts, starts.Length * 2);
                    Array.Resize(ref ends, ends.Length * 2);
                }
                starts[group] = source.Start;
                ends[group] = source.End;
                codec.MergeInto(source.State, set, group);
                if (source.Next()) queue.Enqueue(r, r);
            }
            if (currentLength >= 0) FinishKey();
            Flush();
            return writer.Finish();
        }
        finally
        {
            foreach (var source in sources) source?.Dispose();
        }
    }

    /// <summary>
    /// Writes every session and fragment, those in memory then those of the runs (read a batch at a time), each as
    /// true, the key, start, end and state; then false. Fragments are not merged: a restore folds those that overlap.
    /// </summary>
    public void WriteFragments(BinaryWriter writer, GroupStateCodec codec)
    {
        for (int s = 0; s < _sessions; s++)
            if (_alive[s]) WriteFragment(writer, Keys.Key(_key[s]), _start[s], _end[s], codec.Encode(Aggregates, s));
        foreach (var run in _runs)
        {
            using var reader = new SessionRun.Reader(run.Path);
            while (reader.Next()) WriteFragment(writer, reader.Key, reader.Start, reader.End, reader.State);
        }
        writer.Write(false);
    }

    private static void WriteFragment(BinaryWriter writer, ReadOnlySpan<byte> key, long start, long end, ReadOnlySpan<byte> state)
    {
        writer.Write(true);
        writer.Write(key.Length);
        writer.Write(key);
        writer.Write(start);
        writer.Write(end);
        writer.Write(state.Length);
        writer.Write(state);
    }

    /// <summary>Forgets every session, deleting the runs.</summary>
    public void Drop(StateMemory memory)
    {
        foreach (var run in _runs) memory.Delete(run.Path);
        TakeRuns();
        Records = 0;
        Empty(keep: false);
    }
}
