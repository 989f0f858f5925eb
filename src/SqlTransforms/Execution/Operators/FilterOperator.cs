using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Kernels;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>Keeps the rows the predicate is true for: a selection vector of the kept rows, then one gather per column.</summary>
internal sealed class FilterOperator(Kernel predicate, RowErrorLog log, Func<long> clock) : EvaluatingOperator(log, clock, "WHERE")
{
    private int[] _selection = [];

    public override void Push(RecordBatch batch)
    {
        Start(batch);
        var result = (BooleanArray)predicate.Evaluate(Context);
        bool failures = ReportErrors();
        int n = batch.Length;
        if (_selection.Length < n) _selection = new int[n];
        int kept = 0;
        var values = result.ValueBuffer.Span;
        bool nulls = result.NullCount > 0;
        int offset = result.Offset;
        for (int i = 0; i < n; i++)
        {
            int j = i + offset;
            if ((values[j >> 3] & (1 << (j & 7))) != 0 && (!nulls || result.IsValid(i)) && (!failures || !Context.Errors.HasFailed(i)))
                _selection[kept++] = i;
        }
        if (kept == n) { Emit(batch); return; }
        if (kept == 0) return;
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), _selection.AsSpan(0, kept));
        Emit(new RecordBatch(batch.Schema, columns, kept));
    }
}
