using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Scanning;

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
            var value = partition[i];
            var matches = p.Operation switch
            {
                PredicateOperation.IsNull => value is null,
                PredicateOperation.NotNull => value is not null,
                _ => value is not null && RangeMightMatch(p, field.Transform, value, value),
            };
            if (!matches) return false;
        }
        return true;
    }

    /// <summary>
    /// Whether a value of the predicate's column might match when its transformed value lies in [lower, upper]
    /// (a single partition value, or a manifest's partition summary bounds).
    /// </summary>
    internal static bool RangeMightMatch(BoundPredicate p, Transform t, object lower, object upper)
    {
        var resultType = t.ResultType(p.Type);
        int CmpLower(object literal) => ValueComparer.Compare(resultType, lower, t.Apply(p.Type, literal)!);
        int CmpUpper(object literal) => ValueComparer.Compare(resultType, upper, t.Apply(p.Type, literal)!);
        bool Contains(object literal) => CmpLower(literal) <= 0 && CmpUpper(literal) >= 0;
        if (t.Kind == TransformKind.Bucket)
        {
            return p.Operation switch
            {
                PredicateOperation.Equal => Contains(p.Literals[0]),
                PredicateOperation.In => p.Literals.Any(Contains),
                _ => true,
            };
        }
        if (!t.PreservesOrder) return true;
        var exact = t.Kind == TransformKind.Identity;
        // x < v is x <= v - 1 on integral values, whose transform bounds tighter (ts < midnight ends the day before).
        if (!exact && p.Operation is PredicateOperation.LessThan or PredicateOperation.GreaterThan
            && Adjacent(p.Type, p.Literals[0], p.Operation == PredicateOperation.LessThan ? -1 : 1) is { } adjacent)
        {
            return p.Operation == PredicateOperation.LessThan ? CmpLower(adjacent) <= 0 : CmpUpper(adjacent) >= 0;
        }
        return p.Operation switch
        {
            PredicateOperation.Equal => Contains(p.Literals[0]),
            PredicateOperation.In => p.Literals.Any(Contains),
            PredicateOperation.LessThan => exact ? CmpLower(p.Literals[0]) < 0 : CmpLower(p.Literals[0]) <= 0,
            PredicateOperation.LessThanOrEqual => CmpLower(p.Literals[0]) <= 0,
            PredicateOperation.GreaterThan => exact ? CmpUpper(p.Literals[0]) > 0 : CmpUpper(p.Literals[0]) >= 0,
            PredicateOperation.GreaterThanOrEqual => CmpUpper(p.Literals[0]) >= 0,
            _ => true,
        };
    }

    /// <summary>The next value up or down of an integral type (one unscaled unit of a decimal), or null for other types.</summary>
    private static object? Adjacent(PrimitiveType type, object value, int step) => type.TypeId switch
    {
        TypeId.Int or TypeId.Date => (int)value == (step < 0 ? int.MinValue : int.MaxValue) ? null : (int)value + step,
        TypeId.Long or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz =>
            (long)value == (step < 0 ? long.MinValue : long.MaxValue) ? null : (long)value + step,
        TypeId.Decimal => value is DecimalValue d ? new DecimalValue(d.Unscaled + step, d.Scale) : null,
        _ => null,
    };
}
