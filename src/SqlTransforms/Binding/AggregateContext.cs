using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// While binding the select list, HAVING and ORDER BY of a grouped query: the group keys (as written and bound over
/// the input) and the aggregate calls found so far. Expressions bind to the Aggregate node's output: keys first,
/// then aggregates.
/// </summary>
internal sealed class AggregateContext
{
    public readonly List<BoundExpression> Keys = [];
    public readonly List<string> KeyTexts = [];
    /// <summary>The pre-aggregation projection: keys, then each aggregate's argument.</summary>
    public readonly List<BoundExpression> Arguments = [];
    public readonly List<AggregateCall> Calls = [];
    public readonly List<PlanColumn> CallColumns = [];
    public Scope Input = Scope.Empty;
    /// <summary>An updating aggregate: records with a NULL key are dropped, so a key read above it is never NULL.</summary>
    public bool KeysNotNull;
}
