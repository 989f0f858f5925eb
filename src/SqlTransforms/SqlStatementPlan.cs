using Apache.Arrow;
using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms;

/// <summary>One compiled statement: the sink it writes (null for a plain SELECT), its output schema, and its plan.</summary>
public sealed class SqlStatementPlan
{
    internal SqlStatementPlan(string? sink, LogicalPlan plan)
    {
        Sink = sink;
        Plan = plan;
        OutputSchema = Execution.PhysicalPlanner.Schema(plan);
    }

    public string? Sink { get; }
    /// <summary>Arrow types as the table format's Parquet writer takes them; fields carry no ids (the sink assigns them).</summary>
    public Schema OutputSchema { get; }
    internal LogicalPlan Plan { get; }

    /// <summary>The optimised plan, one operator per line (EXPLAIN).</summary>
    public string Explain() => Plan.Explain();
}
