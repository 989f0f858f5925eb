using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>LIMIT and OFFSET over bounded input: slices batches as they pass.</summary>
internal sealed class LimitOperator(long? count, long offset) : Operator
{
    private long _seen;
    private long _emitted;

    public override void Push(RecordBatch batch)
    {
        long start = Math.Max(0, offset - _seen);
        _seen += batch.Length;
        if (start >= batch.Length) return;
        long take = batch.Length - start;
        if (count is { } c) take = Math.Min(take, c - _emitted);
        if (take <= 0) return;
        _emitted += take;
        Emit(take == batch.Length ? batch : batch.Slice((int)start, (int)take));
    }
}
