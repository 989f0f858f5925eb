using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// A physical operator in a push-based graph: batches arrive through <see cref="Push"/>, results go to
/// <see cref="Next"/>. <see cref="Finish"/> ends bounded input (aggregates and sorts emit then). Stateful operators
/// of stateful SQL add watermarks and checkpoint barriers to the same graph.
/// </summary>
internal abstract class Operator
{
    public Operator? Next { get; set; }

    public abstract void Push(RecordBatch batch);

    public virtual void Finish() => Next?.Finish();

    /// <summary>Event time has reached <paramref name="micros"/>: windows that end by then emit (stateless operators pass it on).</summary>
    public virtual void Watermark(long micros) => Next?.Watermark(micros);

    protected void Emit(RecordBatch batch)
    {
        if (batch.Length > 0 || batch.ColumnCount == 0) Next?.Push(batch);
    }
}
