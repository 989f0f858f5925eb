using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>count, sum, min, max, avg: for GROUP BY over bounded input now, and the windows of stateful SQL later.</summary>
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
        r.Add(new AggregateFunction("min", "smallest value", t => t is null || t.IsNested ? null : (t, t), (t, _) => new ExtremeAccumulator(t!, false)));
        r.Add(new AggregateFunction("max", "largest value", t => t is null || t.IsNested ? null : (t, t), (t, _) => new ExtremeAccumulator(t!, true)));
    }
}
