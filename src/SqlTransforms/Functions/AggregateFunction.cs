using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// An aggregate (count, sum, min, max, avg): how its argument types resolve and how to create a per-group
/// accumulator. Accumulators are vectorised over group ids, so the windowed and keyed aggregations of stateful
/// SQL reuse them unchanged; they will gain state export and merge for checkpoints.
/// </summary>
internal sealed class AggregateFunction(string name, string description, Func<SqlType?, (SqlType? Parameter, SqlType Returns)?> resolve, Func<SqlType?, SqlType, IGroupAccumulator> create)
{
    public string Name { get; } = name;
    public string Description { get; } = description;

    /// <summary>
    /// For an argument of type <paramref name="argument"/> (null for count(*)): the type the argument is converted to
    /// (avg of integers averages DOUBLEs) and the result type; null when the type does not fit.
    /// </summary>
    public (SqlType? Parameter, SqlType Returns)? Resolve(SqlType? argument) => resolve(argument);

    public IGroupAccumulator Create(SqlType? argument, SqlType result, object? parameter = null) =>
        createWithParameter is not null ? createWithParameter(argument, result, parameter) : create(argument, result);

    /// <summary>For an aggregate with a constant second argument (approx_percentile's fraction): what it must be, or null.</summary>
    public string? ParameterText { get; init; }

    /// <summary>Checks the constant second argument; the problem, or null when it fits.</summary>
    public Func<object?, string?>? CheckParameter { get; init; }

    private Func<SqlType?, SqlType, object?, IGroupAccumulator>? createWithParameter;

    public AggregateFunction(string name, string description, Func<SqlType?, (SqlType? Parameter, SqlType Returns)?> resolve, Func<SqlType?, SqlType, object?, IGroupAccumulator> create)
        : this(name, description, resolve, (_, _) => throw new InvalidOperationException())
    {
        createWithParameter = create;
    }
}
