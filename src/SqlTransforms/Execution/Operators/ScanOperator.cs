using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>Where a source's batches enter a statement: picks the columns the query reads (projection push-down).</summary>
internal sealed class ScanOperator(IReadOnlyList<int> projection, Schema schema, int sourceWidth) : Operator
{
    public override void Push(RecordBatch batch)
    {
        if (batch.ColumnCount != sourceWidth)
            throw new ArgumentException($"a batch of {batch.ColumnCount} columns was pushed into a source of {sourceWidth}");
        var columns = new IArrowArray[projection.Count];
        for (int i = 0; i < columns.Length; i++) columns[i] = batch.Column(projection[i]);
        Emit(new RecordBatch(schema, columns, batch.Length));
    }
}
