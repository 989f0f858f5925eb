using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// Builds the operator graph of one statement from its logical plan, compiling each expression into kernels once.
/// Scans register under their source's name; a query without FROM registers a one-row start.
/// </summary>
internal sealed class PhysicalPlanner(RowErrorLog log, Func<long> clock, IReadOnlyDictionary<string, int> sourceWidths)
{
    public readonly Dictionary<string, List<Operator>> Scans = new(StringComparer.Ordinal);
    public readonly List<Operator> OneRows = [];
    /// <summary>Operators with state to snapshot, in the order they were built (the same for the same program).</summary>
    public readonly List<IStatefulOperator> Stateful = [];
    /// <summary>A lookup table's current rows by qualified name, from the host (none: a lookup join cannot run).</summary>
    public Func<string, RecordBatch>? LookupRows { get; init; }
    /// <summary>The updating aggregates, which emit their changed keys when the runtime flushes before a commit.</summary>
    public readonly List<UpdatingAggregateOperator> Updating = [];

    /// <summary>The execution's keyed state: its shards and memory budget, shared by its windowed aggregations and top-Ns.</summary>
    public StateMemory State { get; init; } = new(StateOptions.InMemory);

    /// <summary>Each stateful operator's counters, in the order of <see cref="Stateful"/>.</summary>
    public readonly List<OperatorStatistics> Statistics = [];

    // The id of the node being built in its statement's graph (SqlStatementPlan.Graph: the sink is 0, then depth-first).
    private int _node;

    /// <summary>Builds one statement's operators, writing into <paramref name="downstream"/>.</summary>
    public void Build(LogicalPlan plan, Operator downstream)
    {
        _node = 0;
        BuildNode(plan, downstream);
    }

    private void BuildNode(LogicalPlan plan, Operator downstream)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        int node = ++_node;
        var schema = Schema(plan);
        Operator op;
        switch (plan)
        {
            case LogicalPlan.Scan s:
                op = new ScanOperator(s.Projection, schema, sourceWidths[s.Source]);
                op.Next = downstream;
                if (!Scans.TryGetValue(s.Source, out var list)) Scans[s.Source] = list = [];
                list.Add(op);
                return;
            case LogicalPlan.OneRow:
                op = new PassOperator();
                op.Next = downstream;
                OneRows.Add(op);
                return;
            case LogicalPlan.Filter f: op = new FilterOperator(ExpressionCompiler.CompileCondition(f.Predicate), log, clock); break;
            case LogicalPlan.Project p: op = new ProjectOperator(p.Expressions.Select(ExpressionCompiler.Compile).ToArray(), schema, log, clock); break;
            case LogicalPlan.Unnest u: op = new UnnestOperator(u.ListColumns, schema); break;
            case LogicalPlan.UnionAll u:
            {
                var union = new UnionOperator(u.Inputs.Count, schema) { Next = downstream };
                for (int i = 0; i < u.Inputs.Count; i++) BuildNode(u.Inputs[i], union.Input(i));
                return;
            }
            case LogicalPlan.Aggregate { Window: { } window } a:
            {
                var inputTypes = a.Input.Columns.Select(c => c.Type).ToList();
                var outputTypes = a.Columns.Select(c => c.Type).ToList();
                var windowed = window.Kind == Windows.WindowKind.Session
                    ? (WindowAggregateOperator)new SessionWindowOperator(window, a.Keys, inputTypes, a.Aggregates, schema, outputTypes, log, State)
                    : new SlidingWindowOperator(window, a.Keys, inputTypes, a.Aggregates, schema, outputTypes, log, State);
                op = windowed;
                break;
            }
            case LogicalPlan.Join j:
            {
                var join = new JoinOperator(j.Spec, Schema(j.Left), Schema(j.Right), j.Left.Columns.Select(c => c.Type).ToList(),
                    j.Right.Columns.Select(c => c.Type).ToList(), schema, log, clock, State);
                if (j.Spec.Time is null)
                {
                    join.Next = downstream;
                    BuildNode(j.Left, join.Input(0));
                    BuildNode(j.Right, join.Input(1));
                    return;
                }
                var counted = Count(plan, node, join, 2);
                join.Next = new StatisticsTap(counted, downstream, -1);
                BuildNode(j.Left, new StatisticsTap(counted, join.Input(0), 0));
                BuildNode(j.Right, new StatisticsTap(counted, join.Input(1), 1));
                return;
            }
            case LogicalPlan.LookupJoin l:
                op = new LookupJoinOperator(l.Spec, schema, LookupRows ?? (name => throw new InvalidOperationException($"the lookup join of {name} has no rows to look up here")), log, clock);
                break;
            case LogicalPlan.Aggregate { Updating: true } a:
            {
                var updating = new UpdatingAggregateOperator(a.Keys, a.Input.Columns.Select(c => c.Type).ToList(), a.Aggregates, schema, a.Columns.Select(c => c.Type).ToList(), log, State);
                Updating.Add(updating);
                op = updating;
                break;
            }
            case LogicalPlan.Aggregate a:
                op = new AggregateOperator(a.Keys, a.Input.Columns.Select(c => c.Type).ToList(), a.Aggregates, schema, a.Columns.Select(c => c.Type).ToList());
                break;
            case LogicalPlan.WindowTopN t:
            {
                var topN = new WindowTopNOperator("top-n " + t.Ranking.Describe(t.Input.Columns), t.Ranking, t.Input.Columns.Select(c => c.Type).ToList(), schema,
                    t.Columns.Select(c => c.Type).ToList(), log, State);
                op = topN;
                break;
            }
            case LogicalPlan.Sort s: op = new SortOperator(s.Keys, s.Columns.Select(c => c.Type).ToList(), schema); break;
            case LogicalPlan.Limit l: op = new LimitOperator(l.Count, l.Offset); break;
            default: throw new NotSupportedException(plan.GetType().Name);
        }
        if (op is IStatefulOperator stateful)
        {
            var counted = Count(plan, node, stateful, 1);
            op.Next = new StatisticsTap(counted, downstream, -1);
            foreach (var input in plan.Children()) BuildNode(input, new StatisticsTap(counted, op, 0));
            return;
        }
        op.Next = downstream;
        foreach (var input in plan.Children()) BuildNode(input, op);
    }

    /// <summary>Registers a stateful operator, before its inputs are built (the order of a snapshot), with its counters.</summary>
    private OperatorStatistics Count(LogicalPlan plan, int node, IStatefulOperator op, int inputs)
    {
        Stateful.Add(op);
        var statistics = new OperatorStatistics(plan.StatefulOperator(node)!, op, plan.Sources(), inputs);
        Statistics.Add(statistics);
        return statistics;
    }

    public static Schema Schema(LogicalPlan plan) =>
        new(plan.Columns.Select(c => ArrowTypes.Field(c.Name, c.Type, c.Nullable)), metadata: null);

    /// <summary>Forwards batches unchanged (the one-row start of a query without FROM).</summary>
    private sealed class PassOperator : Operator
    {
        public override void Push(RecordBatch batch) => Emit(batch);
    }
}
