using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// What kernels see while evaluating one batch: its columns, its length, the processing time of the batch (now()),
/// the failed rows, and which rows are "active". Lazy forms (CASE, AND, OR, COALESCE) narrow the active rows
/// before evaluating a branch, so a failure in a row the branch does not decide (10 / x in a branch taken only
/// where x &lt;&gt; 0) is not a failure of the row.
/// </summary>
internal sealed class EvalContext
{
    public IArrowArray[] Columns = [];
    public int Length;
    public long NowMicros;
    /// <summary>Increases with every batch, so per-batch caches know when they are stale.</summary>
    public int Batch;
    public readonly RowErrors Errors = new();
    /// <summary>Rows whose failures count; null means all.</summary>
    public bool[]? Active;

    public void Start(IArrowArray[] columns, int length, long nowMicros)
    {
        Columns = columns;
        Length = length;
        Batch++;
        NowMicros = nowMicros;
        Active = null;
        Errors.Reset(length);
    }

    public bool IsActive(int row) => Active is null || Active[row];

    /// <summary>Marks <paramref name="row"/> failed if it is active; true when a sample description is wanted.</summary>
    public bool Fail(int row, RowErrorReason reason) => (Active is null || Active[row]) && Errors.Mark(row, reason);
}
