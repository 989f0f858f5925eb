using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>UNION ALL: passes every input's batches on (under one schema); finishes when every input has.</summary>
internal sealed class UnionOperator(int inputs, Schema schema) : Operator
{
    private int _finished;

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
}
