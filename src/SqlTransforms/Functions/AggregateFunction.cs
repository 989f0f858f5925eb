using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// An aggregate (count, sum, min, max, avg): how its argument types resolve and how to create a per-group
/// accumulator. Accumulators are vectorised over group ids, so the windowed and keyed aggregations of stateful
/// SQL reuse them unchanged; they will gain state export and merge for checkpoints.
/// </summary>
internal sealed class AggregateFunction(string name, string description, Func<SqlType?, SqlType?> returns, Func<SqlType?, SqlType, IGroupAccumulator> create)
{
    public string Name { get; } = name;
    public string Description { get; } = description;

    /// <summary>The result type for an argument of <paramref name="argument"/> (null for count(*)); null when the type does not fit.</summary>
    public SqlType? Returns(SqlType? argument) => returns(argument);

    public IGroupAccumulator Create(SqlType? argument, SqlType result) => create(argument, result);
}
