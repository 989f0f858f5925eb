namespace DataPlane.SqlTransforms.Syntax;

/// <summary>
/// The window of a window function: <c>OVER (PARTITION BY a, b ORDER BY c DESC)</c>, starting at <see cref="Start"/>
/// (the word OVER). Frames (ROWS, RANGE) and named windows are refused by the parser.
/// </summary>
internal sealed record OverClause(IReadOnlyList<SqlExpression> PartitionBy, IReadOnlyList<OrderItem> OrderBy, int Start, int End);
