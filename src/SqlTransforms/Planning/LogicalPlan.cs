using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Functions;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// The logical plan: a tree of relational operators, each with its output columns. Stateless nodes (Scan, Filter,
/// Project, Unnest, UnionAll) run over streams as they are; Aggregate, Sort and Limit need bounded input until the
/// windowed, keyed and joined nodes of stateful SQL sit beside them.
/// </summary>
internal abstract record LogicalPlan(IReadOnlyList<PlanColumn> Columns)
{
    /// <summary>Reads the source <see cref="Source"/> (a stream, or the CLI's input); <see cref="Projection"/> picks its columns.</summary>
    public sealed record Scan(string Source, IReadOnlyList<int> Projection, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    /// <summary>A query without FROM: one row of no columns.</summary>
    public sealed record OneRow() : LogicalPlan([]);
    public sealed record Filter(LogicalPlan Input, BoundExpression Predicate) : LogicalPlan(Input.Columns);
    public sealed record Project(LogicalPlan Input, IReadOnlyList<BoundExpression> Expressions, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    /// <summary>Repeats each input row once per element of its lists (zipped when several), appending the elements as columns.</summary>
    public sealed record Unnest(LogicalPlan Input, IReadOnlyList<int> ListColumns, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    public sealed record UnionAll(IReadOnlyList<LogicalPlan> Inputs) : LogicalPlan(Inputs[0].Columns);
    /// <summary>Groups by <see cref="Keys"/> (columns of the input) and computes <see cref="Aggregates"/>; outputs keys then aggregates.</summary>
    public sealed record Aggregate(LogicalPlan Input, IReadOnlyList<int> Keys, IReadOnlyList<AggregateCall> Aggregates, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns)
    {
        /// <summary>A windowed aggregation: input column 0 is the event time, output columns 0 and 1 window_start and window_end.</summary>
        public Windows.WindowSpec? Window { get; init; }
        /// <summary>Over a stream without a window: one row per key, emitted again whenever the key changes (at each sink commit).</summary>
        public bool Updating { get; init; }
    }
    /// <summary>A join: the left input's columns, then the right's (nullable on a side an outer join may leave unmatched).</summary>
    public sealed record Join(LogicalPlan Left, LogicalPlan Right, JoinSpec Spec, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    /// <summary>A lookup join: the input's (stream's) columns, then the looked-up table's (nullable in a LEFT join).</summary>
    public sealed record LookupJoin(LogicalPlan Input, LookupSpec Spec, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    public sealed record Sort(LogicalPlan Input, IReadOnlyList<SortKey> Keys) : LogicalPlan(Input.Columns);
    /// <summary>row_number, rank, dense_rank per window and partition, keeping the rows a filter above asks for (top-N, deduplication).</summary>
    public sealed record WindowTopN(LogicalPlan Input, RankingSpec Ranking, IReadOnlyList<PlanColumn> Columns) : LogicalPlan(Columns);
    public sealed record Limit(LogicalPlan Input, long? Count, long Offset) : LogicalPlan(Input.Columns);

    public IEnumerable<LogicalPlan> Children() => this switch
    {
        Filter f => [f.Input],
        Project p => [p.Input],
        Unnest u => [u.Input],
        UnionAll u => u.Inputs,
        Aggregate a => [a.Input],
        Join j => [j.Left, j.Right],
        LookupJoin l => [l.Input],
        Sort s => [s.Input],
        Limit l => [l.Input],
        WindowTopN t => [t.Input],
        _ => [],
    };

    /// <summary>One line per node, indented, for EXPLAIN and tests.</summary>
    public string Explain()
    {
        var b = new System.Text.StringBuilder();
        Explain(b, 0);
        return b.ToString();
    }

    private void Explain(System.Text.StringBuilder b, int indent)
    {
        var (op, detail) = Describe();
        b.Append(' ', indent * 2).Append(op);
        if (detail.Length > 0) b.Append(' ').Append(detail);
        b.Append('\n');
        foreach (var input in Children()) input.Explain(b, indent + 1);
    }

    /// <summary>The plan as nodes (in EXPLAIN's order, the <paramref name="sink"/>'s or the result's node first) and edges from input to consumer.</summary>
    public SqlPlanGraph Graph(string? sink)
    {
        var nodes = new List<SqlPlanNode> { sink is null ? new SqlPlanNode(0, "Output", "the query's result") : new SqlPlanNode(0, "Sink", sink) };
        var edges = new List<SqlPlanEdge>();
        // Depth-first with an explicit stack, in EXPLAIN's order: the plan is as deep as the SQL nests, bounded by its limits.
        var pending = new Stack<(LogicalPlan Node, int Consumer)>();
        pending.Push((this, 0));
        while (pending.TryPop(out var item))
        {
            var (op, detail) = item.Node.Describe();
            int id = nodes.Count;
            nodes.Add(new SqlPlanNode(id, op, detail));
            edges.Add(new SqlPlanEdge(id, item.Consumer));
            foreach (var input in item.Node.Children().Reverse()) pending.Push((input, id));
        }
        return new SqlPlanGraph(nodes, edges);
    }

    /// <summary>
    /// The stateful operators of the plan, in EXPLAIN's order (the order an execution builds them), each with its node's
    /// id in <see cref="Graph"/>: nodes that keep state over a stream (windows, joins with a time bound, top-N, updating aggregates).
    /// </summary>
    public IReadOnlyList<SqlStatefulOperator> StatefulOperators()
    {
        var found = new List<SqlStatefulOperator>();
        // Graph's numbering: the sink is node 0, then depth-first with inputs in order, as the execution builds them.
        int id = 0;
        var pending = new Stack<LogicalPlan>([this]);
        while (pending.TryPop(out var node))
        {
            id++;
            if (node.StatefulOperator(id) is { } stateful) found.Add(stateful);
            foreach (var input in node.Children().Reverse()) pending.Push(input);
        }
        return found;
    }

    /// <summary>This node as a stateful operator (its id <paramref name="id"/>), or null when it keeps no state across batches.</summary>
    public SqlStatefulOperator? StatefulOperator(int id)
    {
        var (op, detail) = Describe();
        return this switch
        {
            Aggregate { Window: { } w } a => new(id, op, $"{w} {AggregateNames(a)}", a.Keys.Select((_, i) => a.Columns[2 + i].Name).ToList()),
            Aggregate { Updating: true } a => new(id, op, AggregateNames(a), a.Keys.Select((_, i) => a.Columns[i].Name).ToList()),
            Join { Spec.Time: not null } j => new(id, op, detail,
                j.Spec.LeftKeys.Select((k, i) => ExpressionText.Of(k, j.Left.Columns) + " = " + ExpressionText.Of(j.Spec.RightKeys[i], j.Right.Columns)).ToList()),
            WindowTopN t => new(id, op, detail, (t.Ranking.WindowColumn is { } w ? [t.Input.Columns[w].Name] : Array.Empty<string>())
                .Concat(t.Ranking.Keys.Select(k => t.Input.Columns[k].Name)).ToList()),
            _ => null,
        };
    }

    /// <summary>The sources whose records reach this node, each once.</summary>
    public IReadOnlyList<string> Sources()
    {
        var names = new List<string>();
        var pending = new Stack<LogicalPlan>([this]);
        while (pending.TryPop(out var node))
        {
            if (node is Scan s && !names.Contains(s.Source)) names.Add(s.Source);
            foreach (var input in node.Children()) pending.Push(input);
        }
        return names;
    }

    private (string Operator, string Detail) Describe() => this switch
    {
        Scan s => ("Scan", $"{s.Source} [{string.Join(", ", s.Columns.Select(c => c.Name))}]"),
        OneRow => ("OneRow", ""),
        Filter f => ("Filter", ExpressionText.Of(f.Predicate, f.Input.Columns)),
        Project p => ("Project", string.Join(", ", p.Expressions.Select((e, i) => ExpressionText.Of(e, p.Input.Columns) + " AS " + p.Columns[i].Name))),
        Unnest u => ("Unnest", string.Join(", ", u.ListColumns.Select(i => u.Input.Columns[i].Name))),
        UnionAll => ("UnionAll", ""),
        // A windowed aggregate reads "WindowAggregate <window> Aggregate keys [...]" in EXPLAIN, as one line.
        Aggregate a => a.Window is { } w ? ("WindowAggregate", $"{w} Aggregate {AggregateText(a)}") : a.Updating ? ("UpdatingAggregate", AggregateText(a)) : ("Aggregate", AggregateText(a)),
        Join j => ("Join", JoinText(j)),
        LookupJoin l => ("LookupJoin", LookupText(l)),
        Sort s => ("Sort", string.Join(", ", s.Keys.Select(k => Columns[k.Column].Name + (k.Descending ? " DESC" : "")))),
        WindowTopN t => (t.Ranking.Limit is { Function: RankFunction.RowNumber, Count: 1 } ? "WindowDeduplicate" : "WindowTopN", t.Ranking.Describe(t.Input.Columns)),
        Limit l => ("Limit", $"{l.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "ALL"} OFFSET {l.Offset}"),
        _ => (GetType().Name, ""),
    };

    private static string JoinText(Join j)
    {
        var inputs = j.Left.Columns.Concat(j.Right.Columns).ToList();
        var keys = j.Spec.LeftKeys.Select((k, i) => ExpressionText.Of(k, j.Left.Columns) + " = " + ExpressionText.Of(j.Spec.RightKeys[i], j.Right.Columns));
        return j.Spec.Kind.ToString().ToUpperInvariant() + (j.Spec.LeftKeys.Count > 0 ? $" keys [{string.Join(", ", keys)}]" : "")
            + (j.Spec.Residual is { } r ? " ON " + ExpressionText.Of(r, inputs) : "") + (j.Spec.Time is { } t ? " " + t.Describe(j.Left.Columns, j.Right.Columns) : "");
    }

    private static string LookupText(LookupJoin l) =>
        $"{l.Spec.Kind.ToString().ToUpperInvariant()} keys [{string.Join(", ", l.Spec.StreamKeys.Select((k, i) => ExpressionText.Of(k, l.Input.Columns) + " = " + ExpressionText.Of(l.Spec.TableKeys[i], l.Spec.TableColumns)))}] "
        + $"table {l.Spec.Table} ({l.Spec.Source})";

    /// <summary>The keys and aggregates by their output names (the GROUP BY and select-list text: k, count(*), sum(v)).</summary>
    private static string AggregateText(Aggregate a) =>
        $"keys [{string.Join(", ", a.Keys.Select((_, i) => a.Columns[(a.Window is null ? 0 : 2) + i].Name))}] " + AggregateNames(a);

    private static string AggregateNames(Aggregate a) => string.Join(", ", a.Aggregates.Select((_, i) => a.Columns[a.Columns.Count - a.Aggregates.Count + i].Name));
}

/// <summary>One aggregate of an Aggregate node: the function and its argument column (null for count(*)).</summary>
internal sealed record AggregateCall(AggregateFunction Function, int? Argument, bool Distinct)
{
    /// <summary>FILTER (WHERE ...): the input column of the condition; only rows where it is true count.</summary>
    public int? Filter { get; init; }
    /// <summary>A constant second argument (approx_percentile's fraction).</summary>
    public object? Parameter { get; init; }
}

internal sealed record SortKey(int Column, bool Descending, bool NullsFirst);
