using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Sits on one input of a stateful operator (<paramref name="input"/> is its index) or on its output (-1) and counts
/// what passes into <paramref name="statistics"/>, a batch at a time, handing everything on to <paramref name="target"/>.
/// </summary>
internal sealed class StatisticsTap(OperatorStatistics statistics, Operator target, int input) : Operator
{
    public override void Push(RecordBatch batch)
    {
        if (input < 0) statistics.Out(batch.Length);
        else statistics.In(batch.Length);
        target.Push(batch);
    }

    public override void Watermark(long micros)
    {
        if (input >= 0) statistics.Watermarked(input, micros);
        target.Watermark(micros);
    }

    public override void Finish() => target.Finish();
}
