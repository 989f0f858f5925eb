namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// Whether a statement's state splits by the values of one column of its source: every operator that keeps state across
/// records (an aggregate, windowed or updating; a per-window top-N) groups by that column as it came from the source.
/// Then the records of one value never meet another value's state, so a source partitioned by that column (a Kafka
/// topic keyed by it) can be run one partition at a time, each with its own state.
/// </summary>
internal static class StateKeys
{
    /// <summary>Null when the state of <paramref name="plan"/> splits by <paramref name="column"/> of <paramref name="source"/>
    /// (also when it keeps none); otherwise why not, for the plan shown to users.</summary>
    public static string? Problem(LogicalPlan plan, string source, string column)
    {
        var pending = new Stack<LogicalPlan>();
        pending.Push(plan);
        while (pending.TryPop(out var node))
        {
            switch (node)
            {
                case LogicalPlan.Aggregate a when !a.Keys.Any(k => Traces(a.Input, k, source, column)):
                    return a.Keys.Count == 0
                        ? $"its aggregate has no GROUP BY key but the window, so it counts records of every {column} together"
                        : $"GROUP BY key {string.Join(", ", a.Keys.Select((_, j) => a.Columns[j + (a.Window is null ? 0 : 2)].Name))} differs from the stream key {column}";
                case LogicalPlan.WindowTopN t when !t.Ranking.Keys.Any(k => Traces(t.Input, k, source, column)):
                    return $"its PARTITION BY does not name the stream key {column}";
                case LogicalPlan.Join:
                    return "a join keeps its sides' records across keys";
                case LogicalPlan.Sort or LogicalPlan.Limit:
                    return "ORDER BY or LIMIT keeps records across keys";
            }
            foreach (var input in node.Children()) pending.Push(input);
        }
        return null;
    }

    /// <summary>Whether <paramref name="column"/> of <paramref name="plan"/> is the source's column unchanged, passed on by
    /// plain projections, filters and the keys of aggregates below.</summary>
    private static bool Traces(LogicalPlan plan, int column, string source, string name)
    {
        // Bounded by the plan's depth: each step goes one node down.
        while (true)
        {
            (plan, column) = ColumnLineage.Source(plan, column);
            switch (plan)
            {
                case LogicalPlan.Scan s:
                    return s.Source == source && s.Columns[column].Name == name;
                case LogicalPlan.Aggregate a when (a.Window is null ? 0 : 2) is var first && column >= first && column - first < a.Keys.Count:
                    column = a.Keys[column - first];
                    plan = a.Input;
                    continue;
                default:
                    return false;
            }
        }
    }
}
