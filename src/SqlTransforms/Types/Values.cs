namespace DataPlane.SqlTransforms.Types;

/// <summary>
/// The one in-memory representation of a SQL value, used by literals, constant folding and the kernels' Arrow
/// buffers alike: BOOLEAN bool, INTEGER int, BIGINT long, FLOAT float, DOUBLE double, DECIMAL Int128 (unscaled),
/// DATE int (days since 1970-01-01), TIME long (microseconds since midnight), TIMESTAMP[TZ] long (microseconds since
/// the epoch, UTC), INTERVAL <see cref="IntervalValue"/>, VARCHAR string, BLOB byte[], UUID Guid, LIST object?[],
/// STRUCT object?[] (one per field).
/// </summary>
internal static class Values
{
    public const long MicrosPerSecond = 1_000_000L;
    public const long MicrosPerDay = 86_400_000_000L;
}
