using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// The aggregates, for GROUP BY over bounded input and for windows over streams (the same accumulators): count, sum,
/// avg, min, max, the variances, bool_and/bool_or, first/last, array_agg, approx_distinct and approx_percentile.
/// Any of them takes DISTINCT and FILTER (WHERE ...).
/// </summary>
internal static class AggregateFunctions
{
    public static void Register(FunctionRegistry r)
    {
        r.Add(new AggregateFunction("count", "rows, or non-NULL values", t => (t, SqlType.BigInt), (_, _) => new CountAccumulator()));
        r.Add(new AggregateFunction("sum", "sum of values (integers into DECIMAL(38,0), others as DOUBLE)",
            t => t is null ? null : t.IsInteger ? (t, SqlType.Decimal(38, 0)) : t.IsNumeric ? (SqlType.Double, SqlType.Double) : null,
            (t, _) => t!.IsInteger ? new IntegerSumAccumulator(t.Kind) : new DoubleSumAccumulator(false)));
        r.Add(new AggregateFunction("avg", "mean of values", t => t is not null && t.IsNumeric ? (SqlType.Double, SqlType.Double) : null, (_, _) => new DoubleSumAccumulator(true)));
        r.Alias("mean", "avg");
        r.Add(new AggregateFunction("min", "smallest value", t => t is null || !ValueStore.Supports(t) ? null : (t, t), (t, _) => new ExtremeAccumulator(t!, false)));
        r.Add(new AggregateFunction("max", "largest value", t => t is null || !ValueStore.Supports(t) ? null : (t, t), (t, _) => new ExtremeAccumulator(t!, true)));
        Variance(r, "stddev_samp", "sample standard deviation", sample: true, root: true);
        r.Alias("stddev", "stddev_samp");
        Variance(r, "stddev_pop", "population standard deviation", sample: false, root: true);
        Variance(r, "var_samp", "sample variance", sample: true, root: false);
        r.Alias("variance", "var_samp");
        Variance(r, "var_pop", "population variance", sample: false, root: false);
        r.Add(new AggregateFunction("bool_and", "whether every value is true", t => t?.Kind == SqlTypeKind.Boolean ? (t, t) : null, (_, _) => new BooleanAccumulator(and: true)));
        r.Add(new AggregateFunction("bool_or", "whether any value is true", t => t?.Kind == SqlTypeKind.Boolean ? (t, t) : null, (_, _) => new BooleanAccumulator(and: false)));
        r.Add(new AggregateFunction("first_value", "the value of the first row (by event time in a window, else arrival), NULL included",
            t => t is null || !ValueStore.Supports(t) ? null : (t, t), (t, _) => new FirstLastAccumulator(t!, last: false)));
        r.Alias("first", "first_value");
        r.Add(new AggregateFunction("last_value", "the value of the last row (by event time in a window, else arrival), NULL included",
            t => t is null || !ValueStore.Supports(t) ? null : (t, t), (t, _) => new FirstLastAccumulator(t!, last: true)));
        r.Alias("last", "last_value");
        r.Add(new AggregateFunction("array_agg", "the values as a list (by event time in a window, else arrival), NULLs included",
            t => t is null || !ValueStore.Supports(t) ? null : (t, SqlType.List(t)), (t, _) => new ArrayAggAccumulator(t!)));
        r.Alias("list", "array_agg");
        r.Add(new AggregateFunction("approx_distinct", "an estimate of the number of distinct non-NULL values (HyperLogLog, about 3% error)",
            t => t is null || !KeyCodec.Supports(t) ? null : (t, SqlType.BigInt), (t, _) => new ApproxDistinctAccumulator(t!)));
        r.Alias("approx_count_distinct", "approx_distinct");
        r.Add(new AggregateFunction("approx_percentile", "the value at a fraction of the ordered values: exact up to 1,024 values a group, then within 1%",
            t => t is not null && t.IsNumeric ? (SqlType.Double, SqlType.Double) : null,
            (_, _, fraction) => new ApproxPercentileAccumulator((double)fraction!))
        {
            ParameterText = "a constant fraction between 0 and 1, as in approx_percentile(x, 0.5)",
            CheckParameter = p => p is double d && d >= 0 && d <= 1 ? null : "the fraction must be a constant between 0 and 1",
        });
        r.Alias("approx_quantile", "approx_percentile");
    }

    private static void Variance(FunctionRegistry r, string name, string description, bool sample, bool root) =>
        r.Add(new AggregateFunction(name, description, t => t is not null && t.IsNumeric ? (SqlType.Double, SqlType.Double) : null,
            (_, _) => new VarianceAccumulator(sample, root)));
}
