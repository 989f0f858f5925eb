using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>The part filters and projections share: an evaluation context, and dropping failed rows (counted in the query's log).</summary>
internal abstract class EvaluatingOperator(RowErrorLog log, Func<long> clock, string name) : Operator
{
    protected readonly EvalContext Context = new();

    protected void Start(RecordBatch batch)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int i = 0; i < columns.Length; i++) columns[i] = batch.Column(i);
        Context.Start(columns, batch.Length, clock());
    }

    /// <summary>Counts this batch's failed rows; true when there were any.</summary>
    protected bool ReportErrors()
    {
        if (Context.Errors.Count == 0) return false;
        Context.Errors.Report(log, Context.Length, name);
        return true;
    }
}
