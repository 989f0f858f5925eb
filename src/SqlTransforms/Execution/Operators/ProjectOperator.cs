using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Kernels;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>Computes the output columns; rows that failed in any of them are dropped (and counted).</summary>
internal sealed class ProjectOperator(IReadOnlyList<Kernel> expressions, Schema schema, RowErrorLog log, Func<long> clock) : EvaluatingOperator(log, clock, "SELECT")
{
    public override void Push(RecordBatch batch)
    {
        Start(batch);
        var columns = new IArrowArray[expressions.Count];
        for (int i = 0; i < columns.Length; i++) columns[i] = expressions[i].Evaluate(Context);
        int n = batch.Length;
        if (ReportErrors())
        {
            var kept = new List<int>(n);
            for (int i = 0; i < n; i++) if (!Context.Errors.HasFailed(i)) kept.Add(i);
            var selection = kept.ToArray();
            for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(columns[c], selection);
            n = selection.Length;
            if (n == 0) return;
        }
        Emit(new RecordBatch(schema, columns, n));
    }
}
