namespace DataPlane.SqlTransforms;

/// <summary>
/// A stateful operator of a running execution (<see cref="SqlExecution.StatefulOperators"/>), counted per batch since
/// the execution started: the records that reached it and that it emitted, its share of the last snapshot written or
/// read (null before one), the watermark it has been given (microseconds since the epoch, the least of a join's two
/// inputs'; null before one), and the records dropped as late on their way to it (behind the watermark of a stream it
/// reads, or reaching a window it had already emitted).
/// </summary>
public sealed record SqlOperatorStatus(SqlStatefulOperator Plan, string Name, long RecordsIn, long RecordsOut, long? StateBytes, long? Watermark, long LateRecords);
