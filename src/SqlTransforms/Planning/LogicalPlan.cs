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
    }
    public sealed record Sort(LogicalPlan Input, IReadOnlyList<SortKey> Keys) : LogicalPlan(Input.Columns);
    public sealed record Limit(LogicalPlan Input, long? Count, long Offset) : LogicalPlan(Input.Columns);

    public IEnumerable<LogicalPlan> Children() => this switch
    {
        Filter f => [f.Input],
        Project p => [p.Input],
        Unnest u => [u.Input],
        UnionAll u => u.Inputs,
        Aggregate a => [a.Input],
        Sort s => [s.Input],
        Limit l => [l.Input],
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
        b.Append(' ', indent * 2).Append(Describe()).Append('\n');
        foreach (var input in Children()) input.Explain(b, indent + 1);
    }

    private string Describe() => this switch
    {
        Scan s => $"Scan {s.Source} [{string.Join(", ", s.Columns.Select(c => c.Name))}]",
        OneRow => "OneRow",
        Filter f => $"Filter {ExpressionText.Of(f.Predicate, f.Input.Columns)}",
        Project p => $"Project {string.Join(", ", p.Expressions.Select((e, i) => ExpressionText.Of(e, p.Input.Columns) + " AS " + p.Columns[i].Name))}",
        Unnest u => $"Unnest {string.Join(", ", u.ListColumns.Select(i => u.Input.Columns[i].Name))}",
        UnionAll => "UnionAll",
        Aggregate a => (a.Window is { } w ? $"WindowAggregate {w} " : "") + $"Aggregate keys [{string.Join(", ", a.Keys.Select(k => a.Input.Columns[k].Name))}] {string.Join(", ", a.Aggregates.Select(x => x.Function.Name + "(" + (x.Argument is { } arg ? a.Input.Columns[arg].Name : "*") + ")"))}",
        Sort s => $"Sort {string.Join(", ", s.Keys.Select(k => Columns[k.Column].Name + (k.Descending ? " DESC" : "")))}",
        Limit l => $"Limit {l.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "ALL"} OFFSET {l.Offset}",
        _ => GetType().Name,
    };
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
