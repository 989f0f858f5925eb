namespace DataPlane.SqlTransforms;

/// <summary>
/// An operator of a statement that keeps state across batches (a window, a window or interval join, top-N, an updating
/// aggregate), as the validate call, <c>dataplane sql explain</c> and a pipeline's status show it: <see cref="Node"/> is
/// its id in <see cref="SqlStatementPlan.Graph"/>, <see cref="Operator"/> and <see cref="Detail"/> as EXPLAIN names it,
/// and <see cref="Keys"/> the columns its state is kept per (none: one group per window).
/// </summary>
public sealed record SqlStatefulOperator(int Node, string Operator, string Detail, IReadOnlyList<string> Keys);
