using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// row_number, rank and dense_rank per window and partition key, keeping only the rows the filter above lets through
/// (top-N; deduplication is row_number = 1). Rows go into slots by window: the window_start a windowed aggregation
/// below gave them, or panes of the event time (the gcd of slide and width, as <see cref="SlidingWindowOperator"/>)
/// when the node assigns tumble or hop windows itself; without a window (bounded input) one slot holds everything.
/// Each slot's keys are split into shards by a hash of the key (<see cref="KeyedShard.Of"/>). Per slot and key the
/// kept rows are sorted by their ORDER BY key (<see cref="OrderKeyCodec"/> bytes), ties by arrival, and at most the
/// limit (plus the ties of the last for rank and dense_rank) are kept, so a row that would not make it costs a
/// comparison and no allocation. A window is emitted, numbered, when the watermark passes its end; a hop window merges
/// its panes' kept rows first. State is the slots with their keys and rows as bytes.
/// <para>
/// Under the execution's state budget, past it every shard's rows in memory are spilled as a sorted run
/// (<see cref="TopNRun"/>). Kept rows merge (the top N of a union is the top N of its parts' top Ns, ties by arrival,
/// which each row carries), so a window whose slots spilled is emitted from its runs merged by key a row at a time,
/// numbered as in memory, in batches: the same rows, and the same winner of every tie, as all in memory.
/// </para>
/// </summary>
internal sealed class WindowTopNOperator : Operator, IShardedOperator
{
    /// <summary>Rows per emitted batch when a window's rows come from spilled runs.</summary>
    private const int MergedRows = 8192;

    /// <summary>Written where snapshots before shards had the slot count (never negative).</summary>
    private const int ShardedLayout = -1;

    /// <summary>Written there when the shards' rows are apart (<see cref="WriteStateApart"/>, <see cref="WriteShard"/>).</summary>
    private const int ApartLayout = -2;

    /// <summary>Estimated bytes of a kept row's entry in its key's list (two references, a length, a sequence).</summary>
    private const long KeptBytes = 32;

    /// <summary>Estimated bytes of a key's list beside its entries: the list, its array's header, its place among the lists.</summary>
    private const long ListBytes = 64;

    /// <summary>Estimated header of a byte array.</summary>
    private const long ArrayBytes = 24;

    private static readonly long EmptyTableBytes = new KeyTable().Bytes;

    private readonly RankingSpec _spec;
    private readonly Schema _schema;
    private readonly IReadOnlyList<SqlType> _outputTypes;
    private readonly RowErrorLog _log;
    private readonly KeyCodec _rows;
    private readonly KeyCodec _keys;
    private readonly OrderKeyCodec _order;
    private readonly IArrowArray[] _rowColumns;
    private readonly IArrowArray[] _keyColumns;
    private readonly IArrowArray[] _orderColumns;
    private readonly long _width;
    private readonly long _slide;
    /// <summary>The size of a slot: a pane of assigned windows, the window itself when the window is a column.</summary>
    private readonly long _pane;
    private readonly SortedDictionary<long, Slot> _slots = new();
    /// <summary>Starts of the windows that hold rows and are not emitted yet.</summary>
    private readonly SortedSet<long> _pending = new();
    private long _sequence;
    /// <summary>Room for the rows of a new key: row_number's limit (it never holds more), up to 16; 4 otherwise.</summary>
    private readonly int _listCapacity;
    private long _watermarked = long.MinValue;
    private readonly StateMemory _memory;
    private readonly int _shards;
    /// <summary>What this operator holds in memory by its estimate (counted under a budget only), and of that its rows.</summary>
    private long _held;
    private long _rowBytes;
    /// <summary>Rows held before a spill is worth its run, when the budget is full of others' state (an eighth of it, at most 1 MB).</summary>
    private readonly long _floor;
    private byte[] _mergedBytes = [];
    private int[] _mergedOffsets = [];
    private long[][] _mergedNumbers = [];
    private int _merged;
    private int _mergedLength;

    public WindowTopNOperator(string name, RankingSpec spec, IReadOnlyList<SqlType> inputTypes, Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log,
        StateMemory memory)
    {
        Name = name;
        _spec = spec;
        _schema = schema;
        _outputTypes = outputTypes;
        _log = log;
        _memory = memory;
        _shards = Math.Max(1, memory.Options.Shards);
        _floor = memory.Bounded ? Math.Min(memory.Options.MemoryBytes / 8, 1L << 20) : 0;
        _rows = new KeyCodec(inputTypes.Take(spec.RowWidth).ToList(), exact: true);
        _keys = new KeyCodec(spec.Keys.Select(k => inputTypes[k]).ToList());
        _order = new OrderKeyCodec(spec.Order.Select(o => inputTypes[o.Column]).ToList(), spec.Order);
        _rowColumns = new IArrowArray[spec.RowWidth];
        _keyColumns = new IArrowArray[spec.Keys.Count];
        _listCapacity = spec.Limit is { Function: RankFunction.RowNumber, Count: > 0 } l ? (int)Math.Min(l.Count, 16) : 4;
        _orderColumns = new IArrowArray[spec.Order.Count];
        if (spec.Window is { } w)
        {
            _width = w.WidthMicros;
            _slide = w.Kind == WindowKind.Tumble ? w.WidthMicros : w.SlideMicros;
            _pane = spec.AssignsWindow ? Gcd(_width, _slide) : _width;
        }
    }

    public string Name { get; }

    /// <summary>
    /// One row kept: its ORDER BY key, its columns encoded (the first <see cref="RowLength"/> bytes of <see cref="Row"/>,
    /// which may be longer: a row displaced under row_number leaves its arrays to the row displacing it), and its
    /// arrival (ties go to the earlier).
    /// </summary>
    private readonly record struct Kept(byte[] Order, byte[] Row, int RowLength, long Sequence);

    /// <summary>The rows of a window (or pane) whose keys hash to one shard: in memory, and the runs spilled.</summary>
    private sealed class Shard
    {
        public KeyTable Keys = new();
        public readonly List<List<Kept>> Rows = [];
        public readonly List<string> Runs = [];
        /// <summary>Estimated bytes of the rows in memory and their lists (counted under a budget only).</summary>
        public long RowBytes;

        public long Bytes => Keys.Bytes + RowBytes;

        public bool Spilled => Runs.Count > 0;
    }

    private sealed class Slot(Shard[] shards)
    {
        public readonly Shard[] Shards = shards;
    }

    private int ShardOf(ReadOnlySpan<byte> key) => KeyedShard.Of(key, _shards);

    private static long Bytes(in Kept row) => 2 * ArrayBytes + row.Order.Length + row.Row.Length;

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        for (int c = 0; c < _rowColumns.Length; c++) _rowColumns[c] = batch.Column(c);
        for (int k = 0; k < _keyColumns.Length; k++) _keyColumns[k] = batch.Column(_spec.Keys[k]);
        for (int o = 0; o < _orderColumns.Length; o++) _orderColumns[o] = batch.Column(_spec.Order[o].Column);
        var windowColumn = (_spec.TimeColumn ?? _spec.WindowColumn) is { } w ? batch.Column(w) : null;
        ReadOnlySpan<long> times = windowColumn is null ? default : Vectors.Values<long>(windowColumn);
        Slot? current = null;
        long currentStart = 0;
        bool bounded = _memory.Bounded;
        for (int i = 0; i < n; i++)
        {
            long start = long.MinValue;
            if (windowColumn is not null)
            {
                if (windowColumn.IsNull(i)) continue; // the watermark dropped records without an event time already
                long t = times[i];
                start = _spec.AssignsWindow ? Floor(t, _pane) : _spec.WindowColumnIsEnd ? t - _width : t;
                if (LastEnd(start) <= _watermarked) { Late(t); continue; }
            }
            if (current is null || currentStart != start) { current = SlotAt(start); currentStart = start; }
            var key = _keys.Encode(_keyColumns, i);
            var shard = current.Shards[ShardOf(key)];
            long tableBefore = bounded ? shard.Keys.Bytes : 0;
            int id = shard.Keys.GetOrAdd(key, out bool added);
            if (added) shard.Rows.Add(new List<Kept>(_listCapacity));
            var rows = shard.Rows[id];
            var order = _order.Encode(_orderColumns, i);
            if (!bounded)
            {
                if (!Admits(rows, order)) continue;
                int at = UpperBound(rows, order);
                rows.Insert(at, Keep(rows, order, _rows.Encode(_rowColumns, i), out _));
                Trim(rows);
                continue;
            }
            long keys = shard.Keys.Bytes - tableBefore;
            long rowBytes = added ? ListBytes + rows.Capacity * KeptBytes : 0;
            if (Admits(rows, order))
            {
                int capacity = rows.Capacity;
                int at = UpperBound(rows, order);
                var kept = Keep(rows, order, _rows.Encode(_rowColumns, i), out var displaced);
                rows.Insert(at, kept);
                rowBytes += Bytes(kept) - (displaced.Order is null ? 0 : Bytes(displaced)) + (rows.Capacity - capacity) * KeptBytes;
                int keep = Keeps(rows);
                for (int r = keep; r < rows.Count; r++) rowBytes -= Bytes(rows[r]);
                if (keep < rows.Count) rows.RemoveRange(keep, rows.Count - keep);
            }
            shard.RowBytes += rowBytes;
            Counted(keys + rowBytes, rowBytes);
            if (_memory.Over && _rowBytes >= _floor) Spill();
        }
        if (bounded) _memory.Batch();
    }

    /// <summary>Adds to what this operator holds, <paramref name="rows"/> of it rows.</summary>
    private void Counted(long bytes, long rows)
    {
        _held += bytes;
        _rowBytes += rows;
        _memory.Change(bytes);
    }

    /// <summary>
    /// The row to insert into <paramref name="rows"/>: under row_number with the limit reached the last row is displaced
    /// (taken out here), and its arrays take the new one's bytes when they fit, so a stream of better rows (the latest
    /// bid per key of a deduplication) does not allocate per row; a deduplication's row arrays get a quarter more room
    /// for the next (a top-N's too would add more bytes for the rows filling it than its displaced rows save).
    /// </summary>
    private Kept Keep(List<Kept> rows, ReadOnlySpan<byte> order, ReadOnlySpan<byte> row, out Kept displaced)
    {
        byte[]? orderBytes = null, rowBytes = null;
        displaced = default;
        if (_spec.Limit is { Function: RankFunction.RowNumber } limit && rows.Count >= limit.Count && rows.Count > 0)
        {
            displaced = rows[^1];
            rows.RemoveAt(rows.Count - 1);
            if (displaced.Order.Length == order.Length) orderBytes = displaced.Order;
            if (displaced.Row.Length >= row.Length) rowBytes = displaced.Row;
        }
        orderBytes ??= new byte[order.Length];
        rowBytes ??= new byte[_spec.Limit is { Function: RankFunction.RowNumber, Count: 1 } ? row.Length + row.Length / 4 : row.Length];
        order.CopyTo(orderBytes);
        row.CopyTo(rowBytes);
        return new Kept(orderBytes, rowBytes, row.Length, _sequence++);
    }

    /// <summary>Whether a row with this ORDER BY key would be kept beside <paramref name="rows"/> (sorted, trimmed).</summary>
    private bool Admits(List<Kept> rows, ReadOnlySpan<byte> order)
    {
        if (_spec.Limit is not { } limit) return true;
        if (limit.Count <= 0) return false;
        if (limit.Function == RankFunction.DenseRank)
            return Distinct(rows) < limit.Count || order.SequenceCompareTo(rows[^1].Order) <= 0;
        if (rows.Count < limit.Count) return true;
        // row_number: only a strictly better row displaces the last (ties go to the earlier arrival); rank: a tie of the Nth is kept too
        int c = order.SequenceCompareTo(rows[(int)limit.Count - 1].Order);
        return limit.Function == RankFunction.RowNumber ? c < 0 : c <= 0;
    }

    /// <summary>Drops the rows past the limit from sorted <paramref name="rows"/>.</summary>
    private void Trim(List<Kept> rows)
    {
        int keep = Keeps(rows);
        if (keep < rows.Count) rows.RemoveRange(keep, rows.Count - keep);
    }

    /// <summary>How many of sorted <paramref name="rows"/> the limit keeps.</summary>
    private int Keeps(List<Kept> rows)
    {
        if (_spec.Limit is not { } limit) return rows.Count;
        int n = (int)Math.Min(limit.Count, int.MaxValue);
        switch (limit.Function)
        {
            case RankFunction.RowNumber:
                return Math.Min(rows.Count, n);
            case RankFunction.Rank:
            {
                if (rows.Count <= n) return rows.Count;
                int keep = n;
                while (keep < rows.Count && rows[keep].Order.AsSpan().SequenceEqual(rows[n - 1].Order)) keep++;
                return keep;
            }
            default:
            {
                int distinct = 0;
                for (int i = 0; i < rows.Count; i++)
                {
                    if (i == 0 || !rows[i].Order.AsSpan().SequenceEqual(rows[i - 1].Order)) distinct++;
                    if (distinct > n) return i;
                }
                return rows.Count;
            }
        }
    }

    private static int Distinct(List<Kept> rows)
    {
        int distinct = 0;
        for (int i = 0; i < rows.Count; i++)
            if (i == 0 || !rows[i].Order.AsSpan().SequenceEqual(rows[i - 1].Order)) distinct++;
        return distinct;
    }

    /// <summary>Where a row with this key goes: after every row that orders before or equal to it.</summary>
    private static int UpperBound(List<Kept> rows, ReadOnlySpan<byte> order)
    {
        int lo = 0, hi = rows.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (rows[mid].Order.AsSpan().SequenceCompareTo(order) <= 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private Slot SlotAt(long start)
    {
        if (_slots.TryGetValue(start, out var slot)) return slot;
        slot = NewSlot(start);
        if (!_spec.AssignsWindow) _pending.Add(start);
        else
            // the windows this pane belongs to: starts at multiples of the slide, in (start - width, start]
            for (long s = Floor(start, _slide); s > start - _width; s -= _slide) _pending.Add(s);
        return slot;
    }

    private Slot NewSlot(long start)
    {
        var shards = new Shard[_shards];
        for (int s = 0; s < shards.Length; s++) shards[s] = new Shard();
        var slot = new Slot(shards);
        if (!_slots.TryAdd(start, slot)) throw new InvalidDataException($"the state has the slot at {start} twice");
        if (_memory.Bounded) Counted(_shards * EmptyTableBytes, 0);
        return slot;
    }

    /// <summary>
    /// Writes every shard's rows in memory to a sorted run of its own and lets them go: past the budget, what this
    /// operator holds is written whole, so its runs are as large as the budget lets them be.
    /// </summary>
    private void Spill()
    {
        foreach (var slot in _slots.Values)
            foreach (var shard in slot.Shards)
                Spill(shard);
        Report();
    }

    /// <summary>Writes the shard's rows in memory as a run, in (key, order, arrival) order, and empties it.</summary>
    private void Spill(Shard shard)
    {
        if (shard.Keys.Count == 0) return;
        using (var run = new TopNRun.Writer(_memory))
        {
            foreach (int id in shard.Keys.SortedForSpill())
            {
                var rows = shard.Rows[id];
                if (_spec.Limit is null) rows.Sort(Compare); // kept in arrival order when nothing is dropped
                var key = shard.Keys.Key(id);
                foreach (var row in rows) run.Add(key, row.Order, row.Sequence, row.Row.AsSpan(0, row.RowLength));
            }
            shard.Runs.Add(run.Finish());
        }
        // a table grown past its first size goes (else what it holds would stay over the budget); a small one is reused
        if (shard.Keys.Bytes > EmptyTableBytes) shard.Keys = new KeyTable();
        else shard.Keys.Clear();
        shard.Rows.Clear();
        shard.RowBytes = 0;
    }

    /// <summary>Deletes the runs of a shard whose slot goes.</summary>
    private void Drop(Shard shard)
    {
        foreach (var run in shard.Runs) _memory.Delete(run);
        shard.Runs.Clear();
    }

    /// <summary>Counts what this operator holds again, from its shards (after a spill, a drop, a restore).</summary>
    private void Report()
    {
        if (!_memory.Bounded) return;
        long held = 0, rows = 0;
        foreach (var slot in _slots.Values)
            foreach (var shard in slot.Shards)
            {
                held += shard.Bytes;
                rows += shard.RowBytes;
            }
        _memory.Change(held - _held);
        _held = held;
        _rowBytes = rows;
    }

    /// <summary>The end of the last window holding the slot that starts at <paramref name="start"/>.</summary>
    private long LastEnd(long start) => _spec.Window is null ? long.MaxValue : _spec.AssignsWindow ? Floor(start, _slide) + _width : start + _width;

    public long LateRecords => Volatile.Read(ref _late);

    private long _late;

    private void Late(long time)
    {
        Volatile.Write(ref _late, _late + 1);
        _log.Count(EventTime.WatermarkTracker.Late);
        _log.Sample(EventTime.WatermarkTracker.Late, $"event time {ValueText.Timestamp(time, false)} reached a window already emitted (watermark {ValueText.Timestamp(_watermarked, false)})");
    }

    public override void Watermark(long micros)
    {
        if (micros > _watermarked && _spec.Window is not null)
        {
            _watermarked = micros;
            EmitUntil(micros);
        }
        base.Watermark(micros);
    }

    public override void Finish()
    {
        EmitUntil(long.MaxValue);
        base.Finish();
    }

    private void EmitUntil(long watermark)
    {
        bool all = watermark == long.MaxValue || _spec.Window is null;
        while (_pending.Count > 0 && _pending.Min is var start && (all || start + _width <= watermark))
        {
            _pending.Remove(start);
            EmitWindow(start);
        }
        bool dropped = false;
        while (_slots.Count > 0 && _slots.First() is var first && (all || LastEnd(first.Key) <= watermark))
        {
            foreach (var shard in first.Value.Shards) Drop(shard);
            _slots.Remove(first.Key);
            dropped = true;
        }
        if (dropped) Report();
    }

    private void EmitWindow(long start)
    {
        // a hop window assigned here is the union of its panes' kept rows, sorted and trimmed again
        bool hop = _spec.AssignsWindow && _pane != _width;
        var slots = new List<Slot>();
        if (!hop)
        {
            if (_slots.TryGetValue(start, out var slot)) slots.Add(slot);
        }
        else
            for (long p = start; p < start + _width; p += _pane)
                if (_slots.TryGetValue(p, out var pane)) slots.Add(pane);
        if (slots.Count == 0) return;
        long bytes = 0;
        bool spilled = false;
        foreach (var slot in slots)
            foreach (var shard in slot.Shards)
            {
                bytes += shard.Bytes;
                spilled |= shard.Spilled;
            }
        // in memory when nothing spilled, and a hop's merge (a table and lists about as large as its panes') fits
        if (!spilled && (!hop || !_memory.Bounded || _memory.Fits(bytes, 0))) EmitInMemory(start, slots, hop);
        else EmitMerged(start, slots);
    }

    private void EmitInMemory(long start, List<Slot> slots, bool hop)
    {
        var emitted = new List<byte[]>();
        var numbers = _spec.Functions.Select(_ => new List<long>()).ToArray();
        for (int s = 0; s < _shards; s++)
        {
            List<List<Kept>> lists;
            if (!hop)
            {
                lists = slots[0].Shards[s].Rows;
                if (_spec.Limit is null) foreach (var rows in lists) rows.Sort(Compare); // kept in arrival order when nothing is dropped
            }
            else
            {
                var keys = new KeyTable();
                lists = [];
                foreach (var pane in slots)
                {
                    var shard = pane.Shards[s];
                    for (int id = 0; id < shard.Keys.Count; id++)
                    {
                        int target = keys.GetOrAdd(shard.Keys.Key(id), out bool added);
                        if (added) lists.Add([]);
                        lists[target].AddRange(shard.Rows[id]);
                    }
                }
                foreach (var rows in lists)
                {
                    rows.Sort(Compare);
                    Trim(rows);
                }
            }
            foreach (var rows in lists)
            {
                var ranks = new RankCounter();
                for (int i = 0; i < rows.Count; i++)
                {
                    ranks.Next(i > 0 && rows[i].Order.AsSpan().SequenceEqual(rows[i - 1].Order));
                    emitted.Add(rows[i].Row); // decoding reads each value's own length, so bytes past RowLength are never read
                    for (int f = 0; f < numbers.Length; f++) numbers[f].Add(ranks.Of(_spec.Functions[f]));
                }
            }
        }
        int n = emitted.Count;
        if (n == 0) return;
        var columns = new List<IArrowArray>(_rows.Decode(emitted));
        foreach (var list in numbers) columns.Add(Longs(SqlType.BigInt, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list)));
        EmitRows(start, columns, n);
    }

    /// <summary>
    /// A window whose slots spilled, shard by shard (a key is in the same shard of every slot): each slot's rows in memory
    /// spilled, and the runs merged by key a row at a time, numbered and kept as in memory, emitted in batches of
    /// <see cref="MergedRows"/>. The runs stay the slots' (a hop's panes are read again by the next windows).
    /// </summary>
    private void EmitMerged(long start, List<Slot> slots)
    {
        if (_mergedOffsets.Length == 0)
        {
            _mergedBytes = new byte[MergedRows * 32];
            _mergedOffsets = new int[MergedRows + 1];
            _mergedNumbers = _spec.Functions.Select(_ => new long[MergedRows]).ToArray();
        }
        for (int s = 0; s < _shards; s++)
        {
            var runs = new List<string>();
            foreach (var slot in slots)
            {
                Spill(slot.Shards[s]);
                runs.AddRange(slot.Shards[s].Runs);
            }
            Report();
            var kept = new HashSet<string>(runs, StringComparer.Ordinal);
            using (var cursor = TopNRun.Merge(_memory, runs, _spec.Limit, kept))
            {
                var ranks = new RankCounter();
                while (cursor.Next())
                {
                    if (!cursor.SameKey) ranks = default;
                    ranks.Next(cursor.SameOrder);
                    if (!ranks.Within(_spec.Limit)) continue;
                    var row = cursor.Row;
                    if (_mergedLength + row.Length > _mergedBytes.Length) Array.Resize(ref _mergedBytes, Math.Max(_mergedBytes.Length * 2, _mergedLength + row.Length));
                    row.CopyTo(_mergedBytes.AsSpan(_mergedLength));
                    _mergedLength += row.Length;
                    for (int f = 0; f < _mergedNumbers.Length; f++) _mergedNumbers[f][_merged] = ranks.Of(_spec.Functions[f]);
                    _mergedOffsets[++_merged] = _mergedLength;
                    if (_merged == MergedRows) EmitMergedRows(start);
                }
            }
            foreach (var run in runs)
                if (!kept.Contains(run)) _memory.Delete(run);
        }
        EmitMergedRows(start);
    }

    private void EmitMergedRows(long start)
    {
        int n = _merged;
        if (n == 0) return;
        var columns = new List<IArrowArray>(_rows.Decode(_mergedBytes.AsSpan(0, _mergedLength), _mergedOffsets.AsSpan(0, n + 1)));
        foreach (var numbers in _mergedNumbers) columns.Add(Longs(SqlType.BigInt, numbers.AsSpan(0, n)));
        _merged = 0;
        _mergedLength = 0;
        EmitRows(start, columns, n);
    }

    /// <summary>Emits a window's rows, numbers after them: window_start and window_end between when the node assigns the window.</summary>
    private void EmitRows(long start, List<IArrowArray> columns, int n)
    {
        if (_spec.AssignsWindow)
        {
            int at = _spec.RowWidth;
            columns.Insert(at, Constant(_outputTypes[at], start, n));
            columns.Insert(at + 1, Constant(_outputTypes[at + 1], start + _width, n));
        }
        Emit(new RecordBatch(_schema, columns, n));
    }

    private static int Compare(Kept a, Kept b)
    {
        int c = a.Order.AsSpan().SequenceCompareTo(b.Order);
        return c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
    }

    private static IArrowArray Constant(SqlType type, long value, int n)
    {
        var bytes = Vectors.Allocate<long>(n, out var span);
        span.Fill(value);
        return Vectors.Fixed(type, bytes, null, n);
    }

    private static IArrowArray Longs(SqlType type, ReadOnlySpan<long> values)
    {
        var bytes = Vectors.Allocate<long>(values.Length, out var span);
        values.CopyTo(span);
        return Vectors.Fixed(type, bytes, null, values.Length);
    }

    private static long Floor(long t, long size)
    {
        long q = t / size;
        if (t % size != 0 && t < 0) q--;
        return q * size;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// <summary>
    /// The watermark and the arrival sequence; then each slot's start and shard count, and each shard's rows
    /// (<see cref="WriteRows"/>); then the windows pending.
    /// </summary>
    public void WriteState(BinaryWriter writer)
    {
        writer.Write(_watermarked);
        writer.Write(_sequence);
        writer.Write(ShardedLayout);
        writer.Write(_slots.Count);
        foreach (var (start, slot) in _slots)
        {
            writer.Write(start);
            writer.Write(slot.Shards.Length);
            foreach (var shard in slot.Shards) WriteRows(writer, shard);
        }
        WritePending(writer);
    }

    /// <summary>The watermark, the arrival sequence, each slot's start and the windows pending; the rows are written by
    /// <see cref="WriteShard"/>, one shard at a time.</summary>
    public void WriteStateApart(BinaryWriter writer)
    {
        writer.Write(_watermarked);
        writer.Write(_sequence);
        writer.Write(ApartLayout);
        writer.Write(_slots.Count);
        foreach (var start in _slots.Keys) writer.Write(start);
        WritePending(writer);
    }

    /// <summary>Shard <paramref name="shard"/>'s rows of every slot: each slot's start, then its rows (<see cref="WriteRows"/>).</summary>
    public void WriteShard(BinaryWriter writer, int shard)
    {
        writer.Write(_slots.Count);
        foreach (var (start, slot) in _slots)
        {
            writer.Write(start);
            WriteRows(writer, slot.Shards[shard]);
        }
    }

    private void WritePending(BinaryWriter writer)
    {
        writer.Write(_pending.Count);
        foreach (var start in _pending) writer.Write(start);
    }

    /// <summary>
    /// A shard's keys, each preceded by true and the last followed by false; each key's bytes then its kept rows (ORDER
    /// BY key, row, arrival), each preceded by true and the last followed by false. A spilled shard is merged from its
    /// runs (its rows in memory spilled first) a row at a time, keeping what the limit keeps, so writing it holds a batch
    /// per run, whatever the state.
    /// </summary>
    private void WriteRows(BinaryWriter writer, Shard shard)
    {
        if (!shard.Spilled)
        {
            for (int id = 0; id < shard.Keys.Count; id++)
            {
                writer.Write(true);
                WriteBytes(writer, shard.Keys.Key(id));
                foreach (var row in shard.Rows[id]) WriteRow(writer, row.Order, row.Row.AsSpan(0, row.RowLength), row.Sequence);
                writer.Write(false);
            }
            writer.Write(false);
            return;
        }
        Spill(shard);
        Report();
        using (var cursor = TopNRun.Merge(_memory, shard.Runs, _spec.Limit))
        {
            var ranks = new RankCounter();
            bool open = false;
            while (cursor.Next())
            {
                if (!cursor.SameKey)
                {
                    if (open) writer.Write(false);
                    writer.Write(true);
                    WriteBytes(writer, cursor.Key);
                    open = true;
                    ranks = default;
                }
                ranks.Next(cursor.SameOrder);
                if (ranks.Within(_spec.Limit)) WriteRow(writer, cursor.Order, cursor.Row, cursor.Sequence);
            }
            if (open) writer.Write(false);
        }
        writer.Write(false);
    }

    private static void WriteRow(BinaryWriter writer, ReadOnlySpan<byte> order, ReadOnlySpan<byte> row, long sequence)
    {
        writer.Write(true);
        WriteBytes(writer, order);
        WriteBytes(writer, row);
        writer.Write(sequence);
    }

    private static void WriteBytes(BinaryWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    /// <summary>
    /// Reads a snapshot of any shard count (or of the layout before shards), each key into its shard here; of one with
    /// the shards apart, the slots, whose rows <see cref="ReadShard"/> reads.
    /// </summary>
    public void ReadState(BinaryReader reader)
    {
        _watermarked = reader.ReadInt64();
        _sequence = reader.ReadInt64();
        foreach (var slot in _slots.Values)
            foreach (var shard in slot.Shards)
                Drop(shard);
        _slots.Clear();
        Report();
        int layout = reader.ReadInt32();
        if (layout >= 0)
        {
            var rows = new List<Kept>();
            for (int s = 0; s < layout; s++)
            {
                var slot = NewSlot(reader.ReadInt64());
                var keys = KeyTable.Read(reader);
                for (int id = 0; id < keys.Count; id++)
                {
                    rows.Clear();
                    int count = reader.ReadInt32();
                    for (int r = 0; r < count; r++)
                    {
                        var order = reader.ReadBytes(reader.ReadInt32());
                        var row = reader.ReadBytes(reader.ReadInt32());
                        rows.Add(new Kept(order, row, row.Length, reader.ReadInt64()));
                    }
                    Place(slot, keys.Key(id), rows, -1);
                }
            }
        }
        else if (layout == ApartLayout)
        {
            int slots = reader.ReadInt32();
            for (int s = 0; s < slots; s++) NewSlot(reader.ReadInt64());
        }
        else if (layout == ShardedLayout)
        {
            int slots = reader.ReadInt32();
            for (int s = 0; s < slots; s++)
            {
                var slot = NewSlot(reader.ReadInt64());
                int shards = reader.ReadInt32();
                if (shards < 1) throw new InvalidDataException($"the state has a slot of {shards} shards");
                for (int shard = 0; shard < shards; shard++) ReadRows(reader, slot, shards == _shards ? shard : -1);
            }
        }
        else throw new InvalidDataException($"the state of a top-N has layout {layout}, which this version does not read");
        _pending.Clear();
        int pending = reader.ReadInt32();
        for (int i = 0; i < pending; i++) _pending.Add(reader.ReadInt64());
    }

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot whose slots <see cref="ReadState"/>
    /// read (<see cref="WriteStateApart"/>): each key into its shard here.</summary>
    public void ReadShard(BinaryReader reader, int shard, int shards)
    {
        int slots = reader.ReadInt32();
        for (int i = 0; i < slots; i++)
        {
            long start = reader.ReadInt64();
            if (!_slots.TryGetValue(start, out var slot)) throw new InvalidDataException($"the shard has rows of a slot at {start}, which the snapshot does not have");
            ReadRows(reader, slot, shards == _shards ? shard : -1);
        }
    }

    /// <summary>One shard's rows of a slot (<see cref="WriteRows"/>), each key into <paramref name="shard"/> here (-1: the shard its hash gives).</summary>
    private void ReadRows(BinaryReader reader, Slot slot, int shard)
    {
        var rows = new List<Kept>();
        while (reader.ReadBoolean())
        {
            var key = reader.ReadBytes(reader.ReadInt32());
            rows.Clear();
            while (reader.ReadBoolean())
            {
                var order = reader.ReadBytes(reader.ReadInt32());
                var row = reader.ReadBytes(reader.ReadInt32());
                rows.Add(new Kept(order, row, row.Length, reader.ReadInt64()));
            }
            Place(slot, key, rows, shard);
        }
    }

    /// <summary>
    /// A key's kept rows read from a snapshot into the slot: in <paramref name="shard"/> (-1: the shard its hash gives
    /// here), beside the rows the key has there already (sorted and trimmed again). Over the budget, what is in memory
    /// spills as it would in a run.
    /// </summary>
    private void Place(Slot slot, ReadOnlySpan<byte> key, List<Kept> read, int shard)
    {
        var target = slot.Shards[shard >= 0 ? shard : ShardOf(key)];
        long table = target.Keys.Bytes;
        int id = target.Keys.GetOrAdd(key, out bool added);
        if (added) target.Rows.Add(new List<Kept>(Math.Max(read.Count, _listCapacity)));
        var rows = target.Rows[id];
        long before = added ? 0 : ListBytesOf(rows);
        rows.AddRange(read);
        if (!added)
        {
            rows.Sort(Compare);
            Trim(rows);
        }
        if (!_memory.Bounded) return;
        long rowBytes = ListBytesOf(rows) - before;
        target.RowBytes += rowBytes;
        Counted(target.Keys.Bytes - table + rowBytes, rowBytes);
        if (_memory.Over && _rowBytes >= _floor) Spill();
    }

    private static long ListBytesOf(List<Kept> rows)
    {
        long bytes = ListBytes + rows.Capacity * KeptBytes;
        foreach (var row in rows) bytes += Bytes(row);
        return bytes;
    }
}
