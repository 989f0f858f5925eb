using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.State;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// The rows one side of a join keeps: its batches as they came (chunks), and per kept row an entry with its place, its
/// join key (an id in a <see cref="KeyTable"/>, the entries of one key chained newest first), when it stops being
/// able to match (its expiry, against the other side's watermark) and whether it has matched. Expired entries are
/// marked dead and skipped; chunks are merged as they pile up (a binary counter, so a row is copied O(log n) times)
/// and everything is rebuilt without the dead once they outnumber the living.
/// </summary>
internal sealed class JoinRows(Schema schema)
{
    private const int NoKey = -1;

    /// <summary>What an entry takes in its arrays (place, key, chain, expiry, arrival, flags).</summary>
    public const int EntryBytes = 42;

    private readonly List<RecordBatch?> _chunks = [];
    private readonly List<int> _chunkLive = [];
    private readonly List<int> _chunkFirstEntry = [];
    private int[] _chunk = new int[16];
    private int[] _row = new int[16];
    private int[] _keyOf = new int[16];
    private int[] _next = new int[16];
    private long[] _expires = new long[16];
    private long[] _seq = new long[16];
    private long[] _since = new long[16];
    private bool[] _matched = new bool[16];
    private bool[] _dead = new bool[16];
    private KeyTable _keys = new();
    private int[] _head = new int[16];
    private PriorityQueue<int, long> _expiry = new();

    /// <summary>Entries made (dead ones included until the next rebuild).</summary>
    public int Count { get; private set; }

    public int Live { get; private set; }

    public RecordBatch Chunk(int entry) => _chunks[_chunk[entry]]!;

    public int ChunkOf(int entry) => _chunk[entry];

    public int Row(int entry) => _row[entry];

    public bool Matched(int entry) => _matched[entry];

    public void SetMatched(int entry) => _matched[entry] = true;

    /// <summary>The number of the batch the entry's row came in (an interval join's, for pairing what spilled: see <see cref="RowRun.TimedLayout"/>).</summary>
    public long Seq(int entry) => _seq[entry];

    /// <summary>The watermark of the entry's side when its row came.</summary>
    public long Since(int entry) => _since[entry];

    public long Expires(int entry) => _expires[entry];

    /// <summary>Whether the entry has a join key (a row with a NULL key matches nothing).</summary>
    public bool Keyed(int entry) => _keyOf[entry] != NoKey;

    /// <summary>The encoded join key of a <see cref="Keyed"/> entry.</summary>
    public ReadOnlySpan<byte> Key(int entry) => _keys.Key(_keyOf[entry]);

    /// <summary>
    /// An estimate of the memory held: the chunks' buffers (whole, rows not kept included, until <see cref="Tidy"/> or
    /// <see cref="Compact"/> copies the living out), the entries' arrays, the key table and the expiry queue.
    /// </summary>
    public long Bytes
    {
        get
        {
            long bytes = (long)_chunk.Length * EntryBytes + _head.Length * 4L + _keys.Bytes + _expiry.Count * 16L;
            foreach (var chunk in _chunks)
                if (chunk is not null) bytes += RowRun.Bytes(chunk);
            return bytes;
        }
    }

    /// <summary>Takes a living entry away without showing it unmatched (its row went elsewhere: spilled).</summary>
    public void Remove(int entry)
    {
        if (!_dead[entry]) Kill(entry);
    }

    /// <summary>Copies the living rows into one chunk, letting go of the rest (after rows were taken away).</summary>
    public void Compact() => Rebuild();

    /// <summary>Forgets every row.</summary>
    public void Clear() => Reset();

    /// <summary>The newest living entry with this key, or -1.</summary>
    public int First(ReadOnlySpan<byte> key)
    {
        int id = _keys.Find(key);
        return id < 0 ? -1 : Living(_head[id]);
    }

    /// <summary>The next older living entry of the same key, or -1.</summary>
    public int Next(int entry) => Living(_next[entry]);

    private int Living(int entry)
    {
        while (entry >= 0 && _dead[entry]) entry = _next[entry];
        return entry;
    }

    /// <summary>Adds a batch whose rows <see cref="Add"/> will keep; answers its chunk number.</summary>
    public int AddChunk(RecordBatch batch)
    {
        _chunks.Add(batch);
        _chunkLive.Add(0);
        _chunkFirstEntry.Add(Count);
        return _chunks.Count - 1;
    }

    /// <summary>Keeps a row of chunk <paramref name="chunk"/>; <paramref name="key"/> empty with <paramref name="keyed"/> false for a row that matches nothing (a NULL key).</summary>
    public int Add(int chunk, int row, bool keyed, ReadOnlySpan<byte> key, long expires, bool matched, long seq = 0, long since = long.MinValue)
    {
        int e = Count++;
        Grow(e + 1);
        _chunk[e] = chunk;
        _row[e] = row;
        _expires[e] = expires;
        _seq[e] = seq;
        _since[e] = since;
        _matched[e] = matched;
        _dead[e] = false;
        _next[e] = -1;
        _keyOf[e] = NoKey;
        if (keyed)
        {
            int id = _keys.GetOrAdd(key, out bool added);
            if (added) { GroupArrays.Grow(ref _head, id + 1); _head[id] = -1; }
            _keyOf[e] = id;
            _next[e] = _head[id];
            _head[id] = e;
        }
        if (expires != long.MaxValue) _expiry.Enqueue(e, expires);
        _chunkLive[chunk]++;
        Live++;
        return e;
    }

    /// <summary>Marks dead every entry expiring before <paramref name="watermark"/>; those not matched go to
    /// <paramref name="unmatched"/> when given (an outer side), and all of them to <paramref name="expired"/> when given
    /// (their rows stay readable until <see cref="Tidy"/>).</summary>
    public void Expire(long watermark, List<int>? unmatched, List<int>? expired = null)
    {
        while (_expiry.TryPeek(out int e, out long expires) && expires < watermark)
        {
            _expiry.Dequeue();
            if (_dead[e]) continue; // taken away (spilled)
            if (!_matched[e]) unmatched?.Add(e);
            expired?.Add(e);
            Kill(e);
        }
    }

    /// <summary>Every living entry, oldest first.</summary>
    public IEnumerable<int> Living()
    {
        for (int e = 0; e < Count; e++) if (!_dead[e]) yield return e;
    }

    private void Kill(int e)
    {
        _dead[e] = true;
        Live--;
        _chunkLive[_chunk[e]]--;
    }

    /// <summary>After a batch: merges trailing chunks of similar size, and rebuilds without the dead once they outnumber the living.</summary>
    public void Tidy()
    {
        for (int c = 0; c < _chunks.Count; c++) if (_chunkLive[c] == 0) _chunks[c] = null;
        if (Count - Live > Live && Count >= 1024) { Rebuild(); return; }
        while (_chunks.Count >= 2 && _chunkLive[^2] <= _chunkLive[^1] * 2 && _chunkLive[^1] > 0)
            MergeLastTwo();
    }

    private void MergeLastTwo()
    {
        int a = _chunks.Count - 2, first = _chunkFirstEntry[a];
        var parts = new List<RecordBatch>(2);
        var rows = new List<int>();
        int at = 0;
        for (int c = a; c < _chunks.Count; c++)
        {
            rows.Clear();
            for (int e = _chunkFirstEntry[c]; e < (c + 1 < _chunks.Count ? _chunkFirstEntry[c + 1] : Count); e++)
            {
                if (_dead[e]) continue;
                rows.Add(_row[e]);
                _chunk[e] = a;
                _row[e] = at++;
            }
            if (rows.Count > 0) parts.Add(Take(_chunks[c]!, rows.ToArray()));
        }
        _chunks.RemoveAt(_chunks.Count - 1);
        _chunkLive[a] += _chunkLive[^1];
        _chunkLive.RemoveAt(_chunkLive.Count - 1);
        _chunkFirstEntry.RemoveAt(_chunkFirstEntry.Count - 1);
        _chunkFirstEntry[a] = first;
        _chunks[a] = parts.Count == 0 ? null : Concatenate(parts);
    }

    /// <summary>Everything living as one chunk, entries renumbered oldest first, keys and expiries rebuilt.</summary>
    private void Rebuild()
    {
        var living = Living().ToList();
        var parts = new List<RecordBatch>();
        for (int i = 0; i < living.Count;)
        {
            int c = _chunk[living[i]];
            var rows = new List<int>();
            for (; i < living.Count && _chunk[living[i]] == c; i++) rows.Add(_row[living[i]]);
            parts.Add(Take(_chunks[c]!, rows.ToArray()));
        }
        var keys = _keys;
        var old = (_keyOf, _expires, _matched, _seq, _since);
        Reset();
        if (living.Count == 0) return;
        int chunk = AddChunk(Concatenate(parts));
        for (int i = 0; i < living.Count; i++)
        {
            int e = living[i];
            int key = old._keyOf[e];
            Add(chunk, i, key != NoKey, key != NoKey ? keys.Key(key) : default, old._expires[e], old._matched[e], old._seq[e], old._since[e]);
        }
    }

    private void Reset()
    {
        _chunks.Clear();
        _chunkLive.Clear();
        _chunkFirstEntry.Clear();
        _chunk = new int[16];
        _row = new int[16];
        _keyOf = new int[16];
        _next = new int[16];
        _expires = new long[16];
        _seq = new long[16];
        _since = new long[16];
        _matched = new bool[16];
        _dead = new bool[16];
        _keys = new KeyTable();
        _head = new int[16];
        _expiry = new PriorityQueue<int, long>();
        Count = 0;
        Live = 0;
    }

    private void Grow(int size)
    {
        GroupArrays.Grow(ref _chunk, size);
        GroupArrays.Grow(ref _row, size);
        GroupArrays.Grow(ref _keyOf, size);
        GroupArrays.Grow(ref _next, size);
        GroupArrays.Grow(ref _expires, size);
        GroupArrays.Grow(ref _seq, size);
        GroupArrays.Grow(ref _since, size);
        GroupArrays.Grow(ref _matched, size);
        GroupArrays.Grow(ref _dead, size);
    }

    private RecordBatch Take(RecordBatch batch, int[] rows)
    {
        if (rows.Length == batch.Length) return batch;
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), rows);
        return new RecordBatch(schema, columns, rows.Length);
    }

    private RecordBatch Concatenate(List<RecordBatch> parts)
    {
        if (parts.Count == 1) return parts[0];
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (int c = 0; c < columns.Length; c++)
            columns[c] = ArrowArrayConcatenator.Concatenate(parts.Select(p => p.Column(c)).ToList());
        return new RecordBatch(schema, columns, parts.Sum(p => p.Length));
    }

    /// <summary>Reads the rows of a snapshot written before joins had shards, whose <paramref name="count"/> was read: each
    /// entry's expiry, match and key, then the rows as one Arrow IPC batch.</summary>
    public void Read(BinaryReader reader, int count)
    {
        Reset();
        if (count == 0) return;
        if (count < 0) throw new InvalidDataException("the state of a join holds a negative row count");
        var entries = new (long Expires, bool Matched, byte[]? Key)[count];
        for (int i = 0; i < count; i++)
        {
            long expires = reader.ReadInt64();
            bool matched = reader.ReadBoolean();
            int length = reader.ReadInt32();
            entries[i] = (expires, matched, length < 0 ? null : reader.ReadBytes(length));
        }
        var bytes = reader.ReadBytes(reader.ReadInt32());
        var batch = new ArrowStreamReader(new ReadOnlyMemory<byte>(bytes)).ReadNextRecordBatch()
            ?? throw new InvalidDataException("the state of a join is cut short");
        if (batch.Length != count) throw new InvalidDataException($"the state of a join has {batch.Length} rows for {count} entries");
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        int chunk = AddChunk(new RecordBatch(schema, columns, count));
        for (int i = 0; i < count; i++)
            Add(chunk, i, entries[i].Key is not null, entries[i].Key, entries[i].Expires, entries[i].Matched);
    }
}
