namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// Where a statement's updating aggregate (GROUP BY keys without a window, over a stream) sits: it must be the
/// statement's outermost query, under projections only (a filter, join, union or window above it would need its
/// changes as retractions), and select each of its keys as a plain column, which the sink table takes as its
/// identifier fields: the key of each row a commit writes over.
/// </summary>
internal static class UpdatingKeys
{
    /// <summary>The output column of each key, in GROUP BY order; null for a statement without an updating aggregate.
    /// <paramref name="problem"/> says why a statement with one cannot run (then the answer is null too).</summary>
    public static IReadOnlyList<int>? Find(LogicalPlan plan, out string? problem)
    {
        problem = null;
        if (!Contains(plan)) return null;
        var node = plan;
        while (node is LogicalPlan.Project p) node = p.Input;
        if (node is not LogicalPlan.Aggregate { Updating: true } aggregate || Contains(aggregate.Input))
        {
            problem = "an updating aggregate (GROUP BY keys without a window) must be the statement's outermost query, with nothing but a SELECT list above it: "
                + "a filter, join, UNION ALL or another aggregate over it would need its earlier rows taken back; GROUP BY a window for append-only results";
            return null;
        }
        var outputs = new List<int>();
        for (int key = 0; key < aggregate.Keys.Count; key++)
        {
            int found = -1;
            for (int column = 0; column < plan.Columns.Count && found < 0; column++)
                if (ColumnLineage.Source(plan, column) is var (source, index) && ReferenceEquals(source, aggregate) && index == key)
                    found = column;
            if (found < 0)
            {
                problem = $"the GROUP BY key {aggregate.Columns[key].Name} must be in the SELECT list as it is: an updating aggregate keeps one row per key in the sink table, "
                    + "identified by the key columns";
                return null;
            }
            outputs.Add(found);
        }
        return outputs;
    }

    private static bool Contains(LogicalPlan plan)
    {
        var pending = new Stack<LogicalPlan>();
        pending.Push(plan);
        while (pending.TryPop(out var node))
        {
            if (node is LogicalPlan.Aggregate { Updating: true }) return true;
            foreach (var input in node.Children()) pending.Push(input);
        }
        return false;
    }
}
