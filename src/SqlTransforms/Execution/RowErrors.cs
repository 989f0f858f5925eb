namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// The rows of one batch whose evaluation failed, each with its first reason. A kernel marks a row through
/// <see cref="EvalContext.Fail"/>; the operator drops the marked rows and hands them to the query's
/// <see cref="RowErrorLog"/>. Allocated once per operator and reused batch after batch.
/// </summary>
internal sealed class RowErrors
{
    private RowErrorReason?[] _reasons = [];
    private readonly List<(int Row, string Detail)> _samples = [];

    public int Count { get; private set; }

    public void Reset(int length)
    {
        if (Count > 0 || _reasons.Length < length)
        {
            if (_reasons.Length < length) _reasons = new RowErrorReason?[Math.Max(length, _reasons.Length * 2)];
            else Array.Clear(_reasons, 0, _reasons.Length);
        }
        Count = 0;
        _samples.Clear();
    }

    public bool HasFailed(int row) => Count > 0 && _reasons[row] is not null;

    /// <summary>Marks the row; true when the caller should describe it with <see cref="AddSample"/> (the first few of a batch).</summary>
    public bool Mark(int row, RowErrorReason reason)
    {
        if (_reasons[row] is not null) return false;
        _reasons[row] = reason;
        Count++;
        return _samples.Count < RowErrorLog.SamplesPerReason;
    }

    public void AddSample(int row, string detail) => _samples.Add((row, detail));

    /// <summary>Which rows have failed so far (for a form that may forgive failures it turns out not to depend on).</summary>
    public bool[]? FailedRows(int length)
    {
        if (Count == 0) return null;
        var failed = new bool[length];
        for (int i = 0; i < length; i++) failed[i] = _reasons[i] is not null;
        return failed;
    }

    /// <summary>Forgets a row's failure: the value that failed turned out not to decide the row's result.</summary>
    public void Unmark(int row)
    {
        if (_reasons[row] is null) return;
        _reasons[row] = null;
        Count--;
        _samples.RemoveAll(s => s.Row == row);
    }

    public RowErrorReason? ReasonOf(int row) => _reasons[row];

    /// <summary>Counts this batch's failures into <paramref name="log"/>.</summary>
    public void Report(RowErrorLog log, int length, string where)
    {
        if (Count == 0) return;
        for (int row = 0; row < length; row++)
            if (_reasons[row] is { } reason)
                log.Count(reason);
        foreach (var (row, detail) in _samples)
            log.Sample(_reasons[row]!, $"{detail} (in {where})");
    }
}
