using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// What windowed aggregations share: the event time (column 0 of the input), group keys encoded as bytes, the
/// aggregate calls, and the output rows: window_start, window_end, the keys, the aggregates. Rows are emitted
/// append-only when the watermark passes a window's end, and every remaining window at the end of bounded input.
/// </summary>
internal abstract class WindowAggregateOperator : Operator, IStatefulOperator
{
    private readonly Schema _schema;
    private readonly IReadOnlyList<SqlType> _outputTypes;
    private readonly IReadOnlyList<AggregateCall> _calls;
    private readonly IReadOnlyList<SqlType> _inputTypes;
    private readonly IReadOnlyList<SqlType> _resultTypes;
    private readonly IReadOnlyList<int> _keys;
    private readonly IArrowArray[] _keyColumns;
    private readonly RowErrorLog _log;

    protected WindowAggregateOperator(WindowSpec window, IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls,
        Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log)
    {
        Window = window;
        _keys = keys;
        _inputTypes = inputTypes;
        _calls = calls;
        _schema = schema;
        _outputTypes = outputTypes;
        _log = log;
        _resultTypes = outputTypes.Skip(2 + keys.Count).ToList();
        _keyColumns = new IArrowArray[keys.Count];
        Codec = new KeyCodec(keys.Select(k => inputTypes[k]).ToList());
    }

    protected WindowSpec Window { get; }

    public string Name => "window " + Window;
    protected KeyCodec Codec { get; }
    /// <summary>The last watermark seen: windows ending by then have been emitted.</summary>
    protected long Watermarked { get; set; } = long.MinValue;

    public sealed override void Watermark(long micros)
    {
        if (micros > Watermarked)
        {
            Watermarked = micros;
            EmitUntil(micros);
        }
        base.Watermark(micros);
    }

    public sealed override void Finish()
    {
        EmitUntil(long.MaxValue);
        base.Finish();
    }

    /// <summary>Emits the windows that end by <paramref name="watermark"/> (every one at <see cref="long.MaxValue"/>) and drops their state.</summary>
    protected abstract void EmitUntil(long watermark);

    protected AggregateSet NewAggregates() => new(_calls, _inputTypes, _resultTypes, WindowSpec.TimeColumn);

    /// <summary>The key columns of a batch, in key order (reused batch after batch).</summary>
    protected IArrowArray[] KeyColumns(RecordBatch batch)
    {
        for (int k = 0; k < _keys.Count; k++) _keyColumns[k] = batch.Column(_keys[k]);
        return _keyColumns;
    }

    protected static IArrowArray[] Columns(RecordBatch batch)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int i = 0; i < columns.Length; i++) columns[i] = batch.Column(i);
        return columns;
    }

    public long LateRecords => Volatile.Read(ref _late);

    private long _late;

    /// <summary>A row that reached a window already emitted (its time is behind this operator's watermark): dropped as late.</summary>
    protected void Late(long time)
    {
        Volatile.Write(ref _late, _late + 1);
        _log.Count(EventTime.WatermarkTracker.Late);
        _log.Sample(EventTime.WatermarkTracker.Late, $"event time {ValueText.Timestamp(time, false)} reached a window already emitted (watermark {ValueText.Timestamp(Watermarked, false)})");
    }

    /// <summary>Emits one row per group: its window's bounds, its key columns and its aggregates.</summary>
    protected void EmitRows(ReadOnlySpan<long> starts, ReadOnlySpan<long> ends, IArrowArray[] keys, IArrowArray[] aggregates)
    {
        int n = starts.Length;
        if (n == 0) return;
        var columns = new IArrowArray[2 + keys.Length + aggregates.Length];
        columns[0] = Times(_outputTypes[0], starts);
        columns[1] = Times(_outputTypes[1], ends);
        keys.CopyTo(columns, 2);
        aggregates.CopyTo(columns, 2 + keys.Length);
        Emit(new RecordBatch(_schema, columns, n));
    }

    private static IArrowArray Times(SqlType type, ReadOnlySpan<long> values)
    {
        var bytes = Vectors.Allocate<long>(values.Length, out var span);
        values.CopyTo(span);
        return Vectors.Fixed(type, bytes, null, values.Length);
    }

    /// <summary>Floor division: the start of the slot of <paramref name="size"/> holding <paramref name="t"/> (negative times too).</summary>
    protected static long Floor(long t, long size)
    {
        long q = t / size;
        if (t % size != 0 && t < 0) q--;
        return q * size;
    }

    public abstract void WriteState(BinaryWriter writer);

    public abstract void ReadState(BinaryReader reader);
}
