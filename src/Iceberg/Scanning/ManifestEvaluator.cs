using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// Decides from a manifest list entry's partition summaries (per partition field: contains_null, contains_nan,
/// lower and upper bound of the values) whether any file the manifest tracks might hold matching rows, so a scan
/// skips reading the manifests that cannot. The filter is projected through the spec's transforms as for
/// <see cref="PartitionEvaluator"/>; missing summaries never prune.
/// </summary>
internal sealed class ManifestEvaluator(Schema schema, PartitionSpec spec)
{
    public bool MightMatch(Expression filter, ManifestFile manifest) =>
        manifest.Partitions is not { } summaries || summaries.Count != spec.Fields.Count || MightMatch(filter, summaries);

    private bool MightMatch(Expression filter, IReadOnlyList<FieldSummary> summaries) => filter switch
    {
        Expression.Constant c => c.Value,
        Expression.AndExpression a => MightMatch(a.Left, summaries) && MightMatch(a.Right, summaries),
        Expression.OrExpression o => MightMatch(o.Left, summaries) || MightMatch(o.Right, summaries),
        Expression.Predicate p => MightMatch(BoundPredicate.Bind(schema, p), summaries),
        _ => true,
    };

    private bool MightMatch(BoundPredicate p, IReadOnlyList<FieldSummary> summaries)
    {
        for (var i = 0; i < spec.Fields.Count; i++)
        {
            var field = spec.Fields[i];
            if (field.SourceId != p.FieldId || field.Transform.Kind is TransformKind.Void or TransformKind.Unknown) continue;
            if (!FieldMightMatch(p, field.Transform, summaries[i])) return false;
        }
        return true;
    }

    private static bool FieldMightMatch(BoundPredicate p, Transform t, FieldSummary summary)
    {
        // Transforms map null to null and every other value to a non-null value.
        if (p.Operation == PredicateOperation.IsNull) return summary.ContainsNull;
        var noBounds = summary.LowerBound is null || summary.UpperBound is null;
        if (p.Operation == PredicateOperation.NotNull) return !noBounds || summary.ContainsNan != false || !summary.ContainsNull;
        var resultType = t.ResultType(p.Type);
        // NaN sits outside the bounds' order; only floating-point partition values can be NaN.
        if (resultType.TypeId is TypeId.Float or TypeId.Double) return true;
        if (noBounds) return false; // every partition value is null, which no comparison matches
        var lower = Conversions.FromBytes(resultType, summary.LowerBound);
        var upper = Conversions.FromBytes(resultType, summary.UpperBound);
        return PartitionEvaluator.RangeMightMatch(p, t, lower, upper);
    }
}
