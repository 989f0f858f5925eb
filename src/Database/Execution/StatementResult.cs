namespace DataPlane.Database.Execution;

/// <summary>What one statement returned: its columns, rows and counters.</summary>
public sealed class StatementResult
{
    public required string[] Columns { get; init; }
    public required List<object?[]> Rows { get; init; }
    public long RowsRead { get; init; }
    public long RowsWritten { get; init; }
    public long LastRowId { get; init; }
}
