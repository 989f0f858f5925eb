using DataPlane.Catalog.Partitioning;
using DataPlane.Catalog.Schemas;
using DataPlane.Catalog.Types;

namespace DataPlane.Catalog.Scanning;

/// <summary>
/// Projects a row filter through a partition spec's transforms (inclusive projection) and tests partition tuples:
/// identity keeps the predicate; bucket keeps equality and IN; order-preserving transforms (truncate, year, month,
/// day, hour) turn bounds into inclusive bounds on the transformed value. Anything else cannot prune.
/// </summary>
internal sealed class PartitionEvaluator(Schema schema, PartitionSpec spec)
{
    public bool MightMatch(Expression filter, PartitionData partition) => filter switch
    {
        Expression.Constant c => c.Value,
        Expression.AndExpression a => MightMatch(a.Left, partition) && MightMatch(a.Right, partition),
        Expression.OrExpression o => MightMatch(o.Left, partition) || MightMatch(o.Right, partition),
        Expression.Predicate p => MightMatch(BoundPredicate.Bind(schema, p), partition),
        _ => true,
    };

    private bool MightMatch(BoundPredicate p, PartitionData partition)
    {
        for (var i = 0; i < spec.Fields.Count; i++)
        {
            var field = spec.Fields[i];
            if (field.SourceId != p.FieldId || field.Transform.Kind is TransformKind.Void or TransformKind.Unknown) continue;
            if (!FieldMightMatch(p, field.Transform, partition[i])) return false;
        }
        return true;
    }

    private static bool FieldMightMatch(BoundPredicate p, Transform t, object? value)
    {
        switch (p.Operation)
        {
            case PredicateOperation.IsNull: return value is null;
            case PredicateOperation.NotNull: return value is not null;
        }
        if (value is null) return false;
        var resultType = t.ResultType(p.Type);
        int Cmp(object literal) => ValueComparer.Compare(resultType, value, t.Apply(p.Type, literal)!);
        if (t.Kind == TransformKind.Bucket)
        {
            return p.Operation switch
            {
                PredicateOperation.Equal => Cmp(p.Literals[0]) == 0,
                PredicateOperation.In => p.Literals.Any(l => Cmp(l) == 0),
                _ => true,
            };
        }
        if (!t.PreservesOrder) return true;
        var exact = t.Kind == TransformKind.Identity;
        return p.Operation switch
        {
            PredicateOperation.Equal => Cmp(p.Literals[0]) == 0,
            PredicateOperation.In => p.Literals.Any(l => Cmp(l) == 0),
            PredicateOperation.LessThan => exact ? Cmp(p.Literals[0]) < 0 : Cmp(p.Literals[0]) <= 0,
            PredicateOperation.LessThanOrEqual => Cmp(p.Literals[0]) <= 0,
            PredicateOperation.GreaterThan => exact ? Cmp(p.Literals[0]) > 0 : Cmp(p.Literals[0]) >= 0,
            PredicateOperation.GreaterThanOrEqual => Cmp(p.Literals[0]) >= 0,
            _ => true,
        };
    }
}
