using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// An aggregate whose answer depends on the order of its values (first, last, array_agg): in a window it takes the
/// event time as the order (ties in arrival order), so the answer does not depend on how records were shuffled on
/// the way; over bounded input, without an order, arrival order.
/// </summary>
internal interface IOrderedAccumulator : IGroupAccumulator
{
    void Update(IArrowArray? input, ReadOnlySpan<long> order, ReadOnlySpan<int> groups, int groupCount);
}
