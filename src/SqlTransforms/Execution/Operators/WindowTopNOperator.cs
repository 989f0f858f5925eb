using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// row_number, rank and dense_rank per window and partition key, keeping only the rows the filter above lets through
/// (top-N; deduplication is row_number = 1). Rows go into slots by window: the window_start a windowed aggregation
/// below gave them, or panes of the event time (the gcd of slide and width, as <see cref="SlidingWindowOperator"/>)
/// when the node assigns tumble or hop windows itself; without a window (bounded input) one slot holds everything.
/// Per slot and key the kept rows are sorted by their ORDER BY key (<see cref="OrderKeyCodec"/> bytes), ties by
/// arrival, and at most the limit (plus the ties of the last for rank and dense_rank) are kept, so a row that would
/// not make it costs a comparison and no allocation. A window is emitted, numbered, when the watermark passes its
/// end; a hop window merges its panes' kept rows first. State is the slots with their keys and rows as bytes.
/// </summary>
internal sealed class WindowTopNOperator : Operator, IStatefulOperator
{
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

    public WindowTopNOperator(string name, RankingSpec spec, IReadOnlyList<SqlType> inputTypes, Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log)
    {
        Name = name;
        _spec = spec;
        _schema = schema;
        _outputTypes = outputTypes;
        _log = log;
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

    private sealed class Slot(KeyTable keys)
    {
        public readonly KeyTable Keys = keys;
        public readonly List<List<Kept>> Rows = [];
    }

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
            int id = current.Keys.GetOrAdd(_keys.Encode(_keyColumns, i), out bool added);
            if (added) current.Rows.Add(new List<Kept>(_listCapacity));
            var rows = current.Rows[id];
            var order = _order.Encode(_orderColumns, i);
            if (!Admits(rows, order)) continue;
            int at = UpperBound(rows, order);
            rows.Insert(at, Keep(rows, order, _rows.Encode(_rowColumns, i)));
            Trim(rows);
        }
    }

    /// <summary>
    /// The row to insert into <paramref name="rows"/>: under row_number with the limit reached the last row is displaced
    /// (taken out here), and its arrays take the new one's bytes when they fit, so a stream of better rows (the latest
    /// bid per key of a deduplication) does not allocate per row; a deduplication's row arrays get a quarter more room
    /// for the next (a top-N's too would add more bytes for the rows filling it than its displaced rows save).
    /// </summary>
    private Kept Keep(List<Kept> rows, ReadOnlySpan<byte> order, ReadOnlySpan<byte> row)
    {
        byte[]? orderBytes = null, rowBytes = null;
        if (_spec.Limit is { Function: RankFunction.RowNumber } limit && rows.Count >= limit.Count && rows.Count > 0)
        {
            var displaced = rows[^1];
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
        if (_spec.Limit is not { } limit) return;
        int n = (int)Math.Min(limit.Count, int.MaxValue);
        switch (limit.Function)
        {
            case RankFunction.RowNumber:
                if (rows.Count > n) rows.RemoveRange(n, rows.Count - n);
                break;
            case RankFunction.Rank:
                if (rows.Count > n)
                {
                    int keep = n;
                    while (keep < rows.Count && rows[keep].Order.AsSpan().SequenceEqual(rows[n - 1].Order)) keep++;
                    rows.RemoveRange(keep, rows.Count - keep);
                }
                break;
            default:
            {
                int distinct = 0;
                for (int i = 0; i < rows.Count; i++)
                {
                    if (i == 0 || !rows[i].Order.AsSpan().SequenceEqual(rows[i - 1].Order)) distinct++;
                    if (distinct > n) { rows.RemoveRange(i, rows.Count - i); break; }
                }
                break;
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
        slot = new Slot(new KeyTable());
        _slots.Add(start, slot);
        if (!_spec.AssignsWindow) _pending.Add(start);
        else
            // the windows this pane belongs to: starts at multiples of the slide, in (start - width, start]
            for (long s = Floor(start, _slide); s > start - _width; s -= _slide) _pending.Add(s);
        return slot;
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
        while (_slots.Count > 0 && _slots.First() is var first && (all || LastEnd(first.Key) <= watermark))
            _slots.Remove(first.Key);
    }

    private void EmitWindow(long start)
    {
        KeyTable keys;
        List<List<Kept>> lists;
        if (!_spec.AssignsWindow || _pane == _width)
        {
            if (!_slots.TryGetValue(start, out var slot)) return;
            keys = slot.Keys;
            lists = slot.Rows;
            if (_spec.Limit is null) foreach (var rows in lists) rows.Sort(Compare); // kept in arrival order when nothing is dropped
        }
        else
        {
            // a hop window: the union of its panes' kept rows, sorted and trimmed again
            keys = new KeyTable();
            lists = [];
            for (long p = start; p < start + _width; p += _pane)
            {
                if (!_slots.TryGetValue(p, out var pane)) continue;
                for (int id = 0; id < pane.Keys.Count; id++)
                {
                    int target = keys.GetOrAdd(pane.Keys.Key(id), out bool added);
                    if (added) lists.Add([]);
                    lists[target].AddRange(pane.Rows[id]);
                }
            }
            foreach (var rows in lists)
            {
                rows.Sort(Compare);
                Trim(rows);
            }
        }
        var emitted = new List<byte[]>();
        var numbers = _spec.Functions.Select(_ => new List<long>()).ToArray();
        foreach (var rows in lists)
        {
            long rank = 0, dense = 0;
            for (int i = 0; i < rows.Count; i++)
            {
                if (i == 0 || !rows[i].Order.AsSpan().SequenceEqual(rows[i - 1].Order)) { rank = i + 1; dense++; }
                emitted.Add(rows[i].Row); // decoding reads each value's own length, so bytes past RowLength are never read
                for (int f = 0; f < numbers.Length; f++)
                    numbers[f].Add(_spec.Functions[f] switch { RankFunction.RowNumber => i + 1, RankFunction.Rank => rank, _ => dense });
            }
        }
        int n = emitted.Count;
        if (n == 0) return;
        var columns = new List<IArrowArray>(_rows.Decode(emitted));
        if (_spec.AssignsWindow)
        {
            columns.Add(Constant(_outputTypes[columns.Count], start, n));
            columns.Add(Constant(_outputTypes[columns.Count], start + _width, n));
        }
        foreach (var list in numbers) columns.Add(Longs(SqlType.BigInt, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list)));
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

    public void WriteState(BinaryWriter writer)
    {
        writer.Write(_watermarked);
        writer.Write(_sequence);
        writer.Write(_slots.Count);
        foreach (var (start, slot) in _slots)
        {
            writer.Write(start);
            slot.Keys.Write(writer);
            foreach (var rows in slot.Rows)
            {
                writer.Write(rows.Count);
                foreach (var row in rows)
                {
                    writer.Write(row.Order.Length);
                    writer.Write(row.Order);
                    writer.Write(row.RowLength);
                    writer.Write(row.Row, 0, row.RowLength);
                    writer.Write(row.Sequence);
                }
            }
        }
        writer.Write(_pending.Count);
        foreach (var start in _pending) writer.Write(start);
    }

    public void ReadState(BinaryReader reader)
    {
        _watermarked = reader.ReadInt64();
        _sequence = reader.ReadInt64();
        _slots.Clear();
        int slots = reader.ReadInt32();
        for (int s = 0; s < slots; s++)
        {
            long start = reader.ReadInt64();
            var slot = new Slot(KeyTable.Read(reader));
            for (int id = 0; id < slot.Keys.Count; id++)
            {
                int count = reader.ReadInt32();
                var rows = new List<Kept>(count);
                for (int r = 0; r < count; r++)
                {
                    var order = reader.ReadBytes(reader.ReadInt32());
                    var row = reader.ReadBytes(reader.ReadInt32());
                    rows.Add(new Kept(order, row, row.Length, reader.ReadInt64()));
                }
                slot.Rows.Add(rows);
            }
            _slots.Add(start, slot);
        }
        _pending.Clear();
        int pending = reader.ReadInt32();
        for (int i = 0; i < pending; i++) _pending.Add(reader.ReadInt64());
    }
}
