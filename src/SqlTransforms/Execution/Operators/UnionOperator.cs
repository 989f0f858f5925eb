using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// UNION ALL: passes every input's batches on (under one schema); finishes when every input has. Its watermark is the
/// smallest of its inputs' (each input reaches it through <see cref="Input"/>), so a window over the union of two
/// streams closes only when both have passed its end.
/// </summary>
internal sealed class UnionOperator(int inputs, Schema schema) : Operator
{
    private int _finished;
    private readonly long[] _watermarks = Enumerable.Repeat(long.MinValue, inputs).ToArray();
    private long _watermark = long.MinValue;

    /// <summary>Where input <paramref name="index"/> of the union sends its batches and watermarks.</summary>
    public Operator Input(int index) => new Arm(this, index);

    public override void Push(RecordBatch batch)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int i = 0; i < columns.Length; i++) columns[i] = batch.Column(i);
        Emit(new RecordBatch(schema, columns, batch.Length));
    }

    public override void Finish()
    {
        if (++_finished == inputs) base.Finish();
    }

    private void Watermark(int input, long micros)
    {
        if (micros <= _watermarks[input]) return;
        _watermarks[input] = micros;
        long min = _watermarks.Min();
        if (min <= _watermark) return;
        _watermark = min;
        Next?.Watermark(min);
    }

    private sealed class Arm(UnionOperator union, int index) : Operator
    {
        public override void Push(RecordBatch batch) => union.Push(batch);

        public override void Finish() => union.Finish();

        public override void Watermark(long micros) => union.Watermark(index, micros);
    }
}
