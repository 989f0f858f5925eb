using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// The state of one aggregate for many groups at once: <see cref="Update"/> folds a batch's values into the groups
/// its rows belong to (group ids from the hash table), <see cref="Result"/> gives one value per group. Windowed and
/// keyed aggregation (stateful SQL) drive the same accumulators, adding export and merge of their state.
/// </summary>
internal interface IGroupAccumulator
{
    /// <param name="input">The argument column, or null for count(*).</param>
    /// <param name="groups">The group of each row.</param>
    /// <param name="groupCount">Groups known so far (the state grows to hold them).</param>
    void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount);

    IArrowArray Result(int groupCount);
}
