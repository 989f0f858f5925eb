using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// Decides from a data file's column metrics (value/null counts, lower/upper bounds) whether rows matching a filter
/// might be in it (<see cref="MightMatch"/>, for pruning scans) or whether every row surely matches
/// (<see cref="AllRowsMatch"/>, for deleting whole files by filter). Missing metrics never prune.
/// </summary>
internal sealed class MetricsEvaluator(Schema schema)
{
    public bool MightMatch(Expression filter, DataFile file) => filter switch
    {
        Expression.Constant c => c.Value,
        Expression.AndExpression a => MightMatch(a.Left, file) && MightMatch(a.Right, file),
        Expression.OrExpression o => MightMatch(o.Left, file) || MightMatch(o.Right, file),
        Expression.Predicate p => MightMatch(BoundPredicate.Bind(schema, p), file),
        _ => true,
    };

    public bool AllRowsMatch(Expression filter, DataFile file) => filter switch
    {
        Expression.Constant c => c.Value,
        Expression.AndExpression a => AllRowsMatch(a.Left, file) && AllRowsMatch(a.Right, file),
        Expression.OrExpression o => AllRowsMatch(o.Left, file) || AllRowsMatch(o.Right, file),
        Expression.Predicate p => AllRowsMatch(BoundPredicate.Bind(schema, p), file),
        _ => false,
    };

    private static bool MightMatch(BoundPredicate p, DataFile file)
    {
        var id = p.FieldId;
        long? nulls = file.NullValueCounts is { } nc && nc.TryGetValue(id, out var n) ? n : null;
        long? values = file.ValueCounts is { } vc && vc.TryGetValue(id, out var v) ? v : null;
        var allNull = nulls is not null && values is not null && nulls == values;
        switch (p.Operation)
        {
            case PredicateOperation.IsNull: return nulls is null || nulls > 0;
            case PredicateOperation.NotNull: return !allNull;
        }
        if (allNull) return false;
        var lower = Bound(p, file.LowerBounds);
        var upper = Bound(p, file.UpperBounds);
        var nanCounted = p.Type.TypeId is TypeId.Float or TypeId.Double;
        if (nanCounted) return true; // NaN is outside the bounds' order; only null-based pruning is safe here.
        switch (p.Operation)
        {
            case PredicateOperation.Equal:
                return (lower is null || p.Compare(p.Literals[0], lower) >= 0) && (upper is null || p.Compare(p.Literals[0], upper) <= 0);
            case PredicateOperation.In:
                return p.Literals.Any(l => (lower is null || p.Compare(l, lower) >= 0) && (upper is null || p.Compare(l, upper) <= 0));
            case PredicateOperation.LessThan:
                return lower is null || p.Compare(lower, p.Literals[0]) < 0;
            case PredicateOperation.LessThanOrEqual:
                return lower is null || p.Compare(lower, p.Literals[0]) <= 0;
            case PredicateOperation.GreaterThan:
                return upper is null || p.Compare(upper, p.Literals[0]) > 0;
            case PredicateOperation.GreaterThanOrEqual:
                return upper is null || p.Compare(upper, p.Literals[0]) >= 0;
            default:
                return true;
        }
    }

    private static bool AllRowsMatch(BoundPredicate p, DataFile file)
    {
        var id = p.FieldId;
        long? nulls = file.NullValueCounts is { } nc && nc.TryGetValue(id, out var n) ? n : null;
        long? values = file.ValueCounts is { } vc && vc.TryGetValue(id, out var v) ? v : null;
        switch (p.Operation)
        {
            case PredicateOperation.IsNull: return nulls is not null && values is not null && nulls == values;
            case PredicateOperation.NotNull: return nulls == 0;
        }
        if (nulls != 0 || p.Type.TypeId is TypeId.Float or TypeId.Double || p.Type.TypeId == TypeId.String) return false; // strings: bounds may be truncated
        var lower = Bound(p, file.LowerBounds);
        var upper = Bound(p, file.UpperBounds);
        if (lower is null || upper is null) return false;
        return p.Operation switch
        {
            PredicateOperation.Equal => p.Compare(lower, p.Literals[0]) == 0 && p.Compare(upper, p.Literals[0]) == 0,
            PredicateOperation.In => p.Literals.Any(l => p.Compare(lower, l) == 0 && p.Compare(upper, l) == 0),
            PredicateOperation.LessThan => p.Compare(upper, p.Literals[0]) < 0,
            PredicateOperation.LessThanOrEqual => p.Compare(upper, p.Literals[0]) <= 0,
            PredicateOperation.GreaterThan => p.Compare(lower, p.Literals[0]) > 0,
            PredicateOperation.GreaterThanOrEqual => p.Compare(lower, p.Literals[0]) >= 0,
            _ => false,
        };
    }

    private static object? Bound(BoundPredicate p, IReadOnlyDictionary<int, byte[]>? bounds) =>
        bounds is not null && bounds.TryGetValue(p.FieldId, out var b) ? Conversions.FromBytes(p.Type, b) : null;
}
