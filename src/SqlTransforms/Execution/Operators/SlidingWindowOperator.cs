using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Tumbling and hopping windows over event time. Records are aggregated once, into panes: slots of the greatest
/// common divisor of slide and width (the window itself for a tumble), each with its own key table and
/// accumulators. A hop window is the merge of its panes when the watermark passes its end, so a record costs one
/// update however many windows overlap it. A pane is dropped once the last window holding it has been emitted.
/// </summary>
internal sealed class SlidingWindowOperator : WindowAggregateOperator
{
    private readonly long _pane;
    private readonly SortedDictionary<long, Pane> _panes = new();
    /// <summary>Starts of the windows that hold data and are not emitted yet.</summary>
    private readonly SortedSet<long> _pending = new();
    private readonly List<Pane> _touched = [];
    private int[] _groups = [];
    private int[] _masked = [];
    private long[] _paneOf = [];

    public SlidingWindowOperator(WindowSpec window, IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls,
        Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log)
        : base(window, keys, inputTypes, calls, schema, outputTypes, log)
    {
        _pane = window.Kind == WindowKind.Tumble ? window.WidthMicros : Gcd(window.WidthMicros, window.SlideMicros);
    }

    private sealed class Pane(long start, KeyTable keys, AggregateSet aggregates)
    {
        public readonly long Start = start;
        public readonly KeyTable Keys = keys;
        public readonly AggregateSet Aggregates = aggregates;
    }

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) { _groups = new int[n]; _masked = new int[n]; _paneOf = new long[n]; }
        var timeColumn = batch.Column(WindowSpec.TimeColumn);
        var times = Vectors.Values<long>(timeColumn);
        var keys = KeyColumns(batch);
        Pane? current = null;
        _touched.Clear();
        for (int i = 0; i < n; i++)
        {
            if (timeColumn.IsNull(i)) { _groups[i] = -1; _paneOf[i] = long.MinValue; continue; }
            long t = times[i];
            long start = Floor(t, _pane);
            if (LastEnd(start) <= Watermarked) { Late(t); _groups[i] = -1; _paneOf[i] = long.MinValue; continue; }
            if (current is null || current.Start != start) current = PaneAt(start);
            _paneOf[i] = start;
            _groups[i] = current.Keys.GetOrAdd(Codec.Encode(keys, i));
        }
        if (_touched.Count == 0) return;
        var columns = Columns(batch);
        if (_touched.Count == 1)
        {
            _touched[0].Aggregates.Update(columns, _groups.AsSpan(0, n), _touched[0].Keys.Count);
            return;
        }
        foreach (var pane in _touched)
        {
            for (int i = 0; i < n; i++) _masked[i] = _paneOf[i] == pane.Start ? _groups[i] : -1;
            pane.Aggregates.Update(columns, _masked.AsSpan(0, n), pane.Keys.Count);
        }
    }

    private Pane PaneAt(long start)
    {
        if (!_panes.TryGetValue(start, out var pane))
        {
            pane = new Pane(start, new KeyTable(), NewAggregates());
            _panes.Add(start, pane);
            // the windows this pane belongs to: starts at multiples of the slide, in (start - width, start]
            long slide = Window.Kind == WindowKind.Tumble ? Window.WidthMicros : Window.SlideMicros;
            for (long s = Floor(start, slide); s > start - Window.WidthMicros; s -= slide) _pending.Add(s);
        }
        if (!_touched.Contains(pane)) _touched.Add(pane);
        return pane;
    }

    /// <summary>The end of the last window holding the pane that starts at <paramref name="start"/>.</summary>
    private long LastEnd(long start) =>
        Floor(start, Window.Kind == WindowKind.Tumble ? Window.WidthMicros : Window.SlideMicros) + Window.WidthMicros;

    public override void Watermark(long micros)
    {
        if (micros > Watermarked)
        {
            Watermarked = micros;
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
        while (_pending.Count > 0 && _pending.Min is var start && (watermark == long.MaxValue || start + Window.WidthMicros <= watermark))
        {
            _pending.Remove(start);
            EmitWindow(start);
        }
        while (_panes.Count > 0 && _panes.First() is var first && (watermark == long.MaxValue || LastEnd(first.Key) <= watermark))
            _panes.Remove(first.Key);
    }

    private void EmitWindow(long start)
    {
        long end = start + Window.WidthMicros;
        KeyTable keys;
        AggregateSet aggregates;
        if (_pane == Window.WidthMicros)
        {
            if (!_panes.TryGetValue(start, out var pane)) return;
            keys = pane.Keys;
            aggregates = pane.Aggregates;
        }
        else
        {
            // a hop window: the merge of its panes' partial aggregates
            keys = new KeyTable();
            aggregates = NewAggregates();
            for (long p = start; p < end; p += _pane)
            {
                if (!_panes.TryGetValue(p, out var pane)) continue;
                for (int id = 0; id < pane.Keys.Count; id++)
                    aggregates.Merge(pane.Aggregates, id, keys.GetOrAdd(pane.Keys.Key(id)));
            }
        }
        int count = keys.Count;
        if (count == 0) return;
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = i;
        var starts = new long[count];
        var ends = new long[count];
        Array.Fill(starts, start);
        Array.Fill(ends, end);
        EmitRows(starts, ends, Codec.Decode(keys, ids), aggregates.Result(ids));
    }

    public override void WriteState(BinaryWriter writer)
    {
        writer.Write(Watermarked);
        writer.Write(_panes.Count);
        foreach (var pane in _panes.Values)
        {
            writer.Write(pane.Start);
            pane.Keys.Write(writer);
            pane.Aggregates.Write(writer, pane.Keys.Count);
        }
        writer.Write(_pending.Count);
        foreach (var start in _pending) writer.Write(start);
    }

    public override void ReadState(BinaryReader reader)
    {
        Watermarked = reader.ReadInt64();
        _panes.Clear();
        int panes = reader.ReadInt32();
        for (int i = 0; i < panes; i++)
        {
            long start = reader.ReadInt64();
            var keys = KeyTable.Read(reader);
            var aggregates = NewAggregates();
            aggregates.Read(reader, keys.Count);
            _panes.Add(start, new Pane(start, keys, aggregates));
        }
        _pending.Clear();
        int pending = reader.ReadInt32();
        for (int i = 0; i < pending; i++) _pending.Add(reader.ReadInt64());
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
