using DataPlane.SqlTransforms.Binding;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// Rewrites a logical plan into a cheaper one with the same rows: filters pushed below projections (substituting
/// the projected expressions) and through UNION ALL, adjacent filters merged, constant-true filters removed, and
/// scans reading only the columns the query uses. Constant folding happens while binding.
/// </summary>
internal static class Optimizer
{
    public static LogicalPlan Optimize(LogicalPlan plan) => PruneScans(PushFilters(plan));

    private static LogicalPlan PushFilters(LogicalPlan plan)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        plan = plan switch
        {
            LogicalPlan.Filter f => f with { Input = PushFilters(f.Input) },
            LogicalPlan.Project p => p with { Input = PushFilters(p.Input) },
            LogicalPlan.Unnest u => u with { Input = PushFilters(u.Input) },
            LogicalPlan.UnionAll u => u with { Inputs = u.Inputs.Select(PushFilters).ToList() },
            LogicalPlan.Aggregate a => a with { Input = PushFilters(a.Input) },
            LogicalPlan.Join j => j with { Left = PushFilters(j.Left), Right = PushFilters(j.Right) },
            LogicalPlan.LookupJoin l => l with { Input = PushFilters(l.Input) },
            LogicalPlan.Sort s => s with { Input = PushFilters(s.Input) },
            LogicalPlan.Limit l => l with { Input = PushFilters(l.Input) },
            LogicalPlan.WindowTopN t => t with { Input = PushFilters(t.Input) },
            _ => plan,
        };
        if (plan is not LogicalPlan.Filter filter) return plan;
        if (filter.Predicate is BoundExpression.Literal { Value: true }) return filter.Input;
        switch (filter.Input)
        {
            case LogicalPlan.Filter inner:
                return new LogicalPlan.Filter(inner.Input, new BoundExpression.And([inner.Predicate, filter.Predicate], inner.Predicate.Nullable || filter.Predicate.Nullable));
            case LogicalPlan.Project project when project.Expressions.All(e => e.IsDeterministic):
            {
                var substituted = filter.Predicate.Rewrite(e => e is BoundExpression.Column c ? project.Expressions[c.Index] : e);
                return project with { Input = PushFilters(new LogicalPlan.Filter(project.Input, substituted)) };
            }
            case LogicalPlan.UnionAll union:
                return union with { Inputs = union.Inputs.Select(i => PushFilters(new LogicalPlan.Filter(i, filter.Predicate))).ToList() };
        }
        return plan;
    }

    /// <summary>Scans read only the source columns something above them uses (a column pruning pass over Scan and Project pairs).</summary>
    private static LogicalPlan PruneScans(LogicalPlan plan)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (plan)
        {
            case LogicalPlan.Project { Input: LogicalPlan.Scan scan } p:
                return Prune(p, scan, p.Expressions, e => p with { Input = e.Scan, Expressions = e.Expressions });
            case LogicalPlan.Project { Input: LogicalPlan.Filter { Input: LogicalPlan.Scan scan } filter } p:
            {
                var all = p.Expressions.Append(filter.Predicate).ToList();
                return Prune(p, scan, all, e => p with { Input = new LogicalPlan.Filter(e.Scan, e.Expressions[^1]), Expressions = e.Expressions.Take(p.Expressions.Count).ToList() });
            }
        }
        return plan switch
        {
            LogicalPlan.Filter f => f with { Input = PruneScans(f.Input) },
            LogicalPlan.Project p => p with { Input = PruneScans(p.Input) },
            LogicalPlan.Unnest u => u with { Input = PruneScans(u.Input) },
            LogicalPlan.UnionAll u => u with { Inputs = u.Inputs.Select(PruneScans).ToList() },
            LogicalPlan.Aggregate a => a with { Input = PruneScans(a.Input) },
            LogicalPlan.Join j => j with { Left = PruneScans(j.Left), Right = PruneScans(j.Right) },
            LogicalPlan.LookupJoin l => l with { Input = PruneScans(l.Input) },
            LogicalPlan.Sort s => s with { Input = PruneScans(s.Input) },
            LogicalPlan.Limit l => l with { Input = PruneScans(l.Input) },
            LogicalPlan.WindowTopN t => t with { Input = PruneScans(t.Input) },
            _ => plan,
        };
    }

    private static LogicalPlan Prune(LogicalPlan original, LogicalPlan.Scan scan, IReadOnlyList<BoundExpression> expressions,
        Func<(LogicalPlan.Scan Scan, List<BoundExpression> Expressions), LogicalPlan> rebuild)
    {
        var used = new HashSet<int>();
        foreach (var e in expressions) e.CollectColumns(used);
        if (used.Count == scan.Columns.Count) return original;
        var keep = used.OrderBy(i => i).ToList();
        var map = new Dictionary<int, int>();
        for (int i = 0; i < keep.Count; i++) map[keep[i]] = i;
        var pruned = scan with { Projection = keep.Select(i => scan.Projection[i]).ToList(), Columns = keep.Select(i => scan.Columns[i]).ToList() };
        var remapped = expressions.Select(e => e.Rewrite(x => x is BoundExpression.Column c ? c with { Index = map[c.Index] } : x)).ToList();
        return rebuild((pruned, remapped));
    }
}
