namespace DataPlane.Database.Execution;

/// <summary>
/// What one request may return: at most <see cref="MaxRows"/> rows a statement and <c>maxBytes</c> of values in all.
/// Each value's size is counted before it is copied out of SQLite, so a result too large is refused, never held.
/// </summary>
internal sealed class ResultBudget(int maxRows, long maxBytes)
{
    private long _bytes;

    public int MaxRows => maxRows;

    public void Take(long bytes)
    {
        _bytes += bytes;
        if (_bytes > maxBytes)
            throw new DatabaseException(DatabaseErrorKind.BadRequest,
                $"The result is larger than {maxBytes:N0} bytes, the most one request may return; select fewer rows or smaller values (a LIMIT, substr()).",
                "result_too_large");
    }
}
