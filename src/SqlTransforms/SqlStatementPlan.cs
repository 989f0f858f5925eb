using Apache.Arrow;
using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms;

/// <summary>One compiled statement: the sink it writes (null for a plain SELECT), its output schema, and its plan.</summary>
public sealed class SqlStatementPlan
{
    internal SqlStatementPlan(string? sink, LogicalPlan plan, bool selectsAll = false, IReadOnlyList<int>? updatingKeys = null)
    {
        Sink = sink;
        Plan = plan;
        SelectsAll = selectsAll;
        OutputSchema = Execution.PhysicalPlanner.Schema(plan);
        UpdatingKeys = updatingKeys?.Select(i => OutputSchema.FieldsList[i].Name).ToList();
    }

    /// <summary>
    /// For an updating aggregate (GROUP BY keys without a window, over a stream): the output columns that are its keys,
    /// in GROUP BY order. Each flush emits the current row of the keys that changed, which the sink writes over the
    /// key's older row; the sink table takes these columns as its identifier fields. Null for append-only output.
    /// </summary>
    public IReadOnlyList<string>? UpdatingKeys { get; }

    public string? Sink { get; }
    /// <summary>Arrow types as the table format's Parquet writer takes them; fields carry no ids (the sink assigns them).</summary>
    public Schema OutputSchema { get; }
    /// <summary>The statement is <c>SELECT * FROM source [WHERE ...]</c>: its rows are the source's records as they came.</summary>
    public bool SelectsAll { get; }
    internal LogicalPlan Plan { get; }

    /// <summary>The statement keeps state across batches (an aggregate; over a stream, a windowed one): a runtime that restarts must restore it.</summary>
    public bool IsStateful
    {
        get
        {
            var pending = new Stack<LogicalPlan>();
            pending.Push(Plan);
            while (pending.TryPop(out var node))
            {
                if (node is LogicalPlan.Aggregate or LogicalPlan.Join) return true;
                foreach (var input in node.Children()) pending.Push(input);
            }
            return false;
        }
    }

    /// <summary>
    /// Null when the statement's state splits by <paramref name="column"/> of <paramref name="source"/> (or it keeps none):
    /// every aggregate and per-window top-N groups by that column as the source has it, so records partitioned by it can
    /// run one partition at a time, each with its own state. Otherwise why not (e.g. the GROUP BY key differs).
    /// </summary>
    public string? StateKeyProblem(string source, string column) => Planning.StateKeys.Problem(Plan, source, column);

    /// <summary>The optimised plan, one operator per line (EXPLAIN).</summary>
    public string Explain() => Plan.Explain();

    /// <summary>The operators that keep state across batches (windows, joins with a time bound, top-N, updating aggregates), with the keys their state is kept per.</summary>
    public IReadOnlyList<SqlStatefulOperator> StatefulOperators() => Plan.StatefulOperators();

    /// <summary>The optimised plan as a graph: its operators, and edges from each operator to the one it feeds; the last node writes the sink (or the result).</summary>
    public SqlPlanGraph Graph() => Plan.Graph(Sink);
}
