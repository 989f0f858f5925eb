using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>The end of a statement's graph: hands each batch to the caller (the sink, or the CLI's printer).</summary>
internal sealed class OutputOperator(Action<RecordBatch> output, Action finished) : Operator
{
    public override void Push(RecordBatch batch) => output(batch);

    public override void Finish() => finished();
}
