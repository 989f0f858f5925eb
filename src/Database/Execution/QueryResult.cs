namespace DataPlane.Database.Execution;

/// <summary>The outcome of a query request: per-statement results and the state it saw.</summary>
public sealed class QueryResult
{
    public required List<StatementResult> Results { get; init; }

    /// <summary>Log position of the state the request saw (for a write: its own commit).</summary>
    public required long Position { get; init; }

    /// <summary>"primary" or the replica's id.</summary>
    public required string ServedBy { get; init; }

    public double DurationMs { get; set; }

    public long RowsRead => Results.Sum(r => r.RowsRead);
    public long RowsWritten => Results.Sum(r => r.RowsWritten);
    public long LastRowId => Results.Count == 0 ? 0 : Results[^1].LastRowId;
}
