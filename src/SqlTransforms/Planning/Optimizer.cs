using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Syntax;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// Rewrites a logical plan into a cheaper one with the same rows: filters pushed below projections (substituting
/// the projected expressions), through UNION ALL and into the sides of a join (the terms reading one side only),
/// adjacent filters merged, constant-true filters removed, and scans and join inputs reading only the columns the
/// query uses (a join keeps and gathers whole rows of each side). Constant folding happens while binding.
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
            case LogicalPlan.Join join:
                return PushIntoJoin(filter, join);
        }
        return plan;
    }

    /// <summary>
    /// The AND terms of a filter over a join that read one side only, moved onto that side, so the join neither keeps
    /// nor probes the rows they remove; only onto a side whose rows appear only matched (not onto the preserved side
    /// of an outer join's other one: there the filter also removes the NULL-extended rows).
    /// </summary>
    private static LogicalPlan PushIntoJoin(LogicalPlan.Filter filter, LogicalPlan.Join join)
    {
        int leftWidth = join.Left.Columns.Count;
        bool toLeft = join.Spec.Kind is JoinKind.Inner or JoinKind.Left;
        bool toRight = join.Spec.Kind is JoinKind.Inner or JoinKind.Right;
        var terms = filter.Predicate is BoundExpression.And and ? and.Terms : [filter.Predicate];
        List<BoundExpression> left = [], right = [], rest = [];
        foreach (var term in terms)
        {
            var columns = new HashSet<int>();
            term.CollectColumns(columns);
            if (!term.IsDeterministic || columns.Count == 0) rest.Add(term);
            else if (toLeft && columns.All(c => c < leftWidth)) left.Add(term);
            else if (toRight && columns.All(c => c >= leftWidth))
                right.Add(term.Rewrite(e => e is BoundExpression.Column c ? c with { Index = c.Index - leftWidth } : e));
            else rest.Add(term);
        }
        if (left.Count == 0 && right.Count == 0) return filter;
        var pushed = join with
        {
            Left = left.Count == 0 ? join.Left : PushFilters(new LogicalPlan.Filter(join.Left, Conjunction(left))),
            Right = right.Count == 0 ? join.Right : PushFilters(new LogicalPlan.Filter(join.Right, Conjunction(right))),
        };
        return rest.Count == 0 ? pushed : new LogicalPlan.Filter(pushed, Conjunction(rest));
    }

    private static BoundExpression Conjunction(List<BoundExpression> terms) =>
        terms.Count == 1 ? terms[0] : new BoundExpression.And(terms, terms.Any(t => t.Nullable));

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
            case LogicalPlan.Project { Input: LogicalPlan.Join join } p:
                return PruneJoin(join, p.Expressions, (j, e) => p with { Input = j, Expressions = e });
            case LogicalPlan.Project { Input: LogicalPlan.Filter { Input: LogicalPlan.Join join } filter } p:
            {
                var all = p.Expressions.Append(filter.Predicate).ToList();
                return PruneJoin(join, all, (j, e) => p with { Input = new LogicalPlan.Filter(j, e[^1]), Expressions = e.Take(p.Expressions.Count).ToList() });
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

    /// <summary>
    /// A join under a projection reading some of its columns: each side projected to the columns something uses (the
    /// projection, the join's keys, the rest of its condition, its event times), so the join keeps and gathers only
    /// those, and the scans below read only those.
    /// </summary>
    private static LogicalPlan PruneJoin(LogicalPlan.Join join, IReadOnlyList<BoundExpression> expressions,
        Func<LogicalPlan, List<BoundExpression>, LogicalPlan> rebuild)
    {
        int leftWidth = join.Left.Columns.Count, rightWidth = join.Right.Columns.Count;
        var used = new HashSet<int>();
        foreach (var e in expressions) e.CollectColumns(used);
        join.Spec.Residual?.CollectColumns(used);
        var leftUsed = used.Where(i => i < leftWidth).ToHashSet();
        var rightUsed = used.Where(i => i >= leftWidth).Select(i => i - leftWidth).ToHashSet();
        foreach (var k in join.Spec.LeftKeys) k.CollectColumns(leftUsed);
        foreach (var k in join.Spec.RightKeys) k.CollectColumns(rightUsed);
        if (join.Spec.Time is { } time)
        {
            leftUsed.Add(time.LeftColumn);
            rightUsed.Add(time.RightColumn);
        }
        if (leftUsed.Count == 0) leftUsed.Add(0);
        if (rightUsed.Count == 0 && rightWidth > 0) rightUsed.Add(0);
        if (leftUsed.Count == leftWidth && rightUsed.Count == rightWidth)
            return rebuild(PruneScans(join), [.. expressions]);
        var keepLeft = leftUsed.Order().ToList();
        var keepRight = rightUsed.Order().ToList();
        var leftMap = new Dictionary<int, int>();
        for (int i = 0; i < keepLeft.Count; i++) leftMap[keepLeft[i]] = i;
        var rightMap = new Dictionary<int, int>();
        for (int i = 0; i < keepRight.Count; i++) rightMap[keepRight[i]] = i;
        BoundExpression Remap(BoundExpression e, Func<int, int> map) =>
            e.Rewrite(x => x is BoundExpression.Column c ? c with { Index = map(c.Index) } : x);
        int Both(int i) => i < leftWidth ? leftMap[i] : keepLeft.Count + rightMap[i - leftWidth];
        var spec = join.Spec with
        {
            LeftKeys = [.. join.Spec.LeftKeys.Select(k => Remap(k, i => leftMap[i]))],
            RightKeys = [.. join.Spec.RightKeys.Select(k => Remap(k, i => rightMap[i]))],
            Residual = join.Spec.Residual is { } residual ? Remap(residual, Both) : null,
            Time = join.Spec.Time is { } t ? t with { LeftColumn = leftMap[t.LeftColumn], RightColumn = rightMap[t.RightColumn] } : null,
        };
        var pruned = join with
        {
            Left = Keep(join.Left, keepLeft),
            Right = Keep(join.Right, keepRight),
            Spec = spec,
            Columns = [.. keepLeft.Select(i => join.Columns[i]), .. keepRight.Select(i => join.Columns[leftWidth + i])],
        };
        return rebuild(PruneScans(pruned), [.. expressions.Select(e => Remap(e, Both))]);
    }

    /// <summary>The given columns of <paramref name="input"/>, projected (the input itself when that is all of them).</summary>
    private static LogicalPlan Keep(LogicalPlan input, List<int> columns) => columns.Count == input.Columns.Count
        ? input
        : new LogicalPlan.Project(input,
            [.. columns.Select(i => (BoundExpression)new BoundExpression.Column(i, input.Columns[i].Name, input.Columns[i].Type, input.Columns[i].Nullable))],
            [.. columns.Select(i => input.Columns[i])]);

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
