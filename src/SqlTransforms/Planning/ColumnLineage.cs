namespace DataPlane.SqlTransforms.Planning;

/// <summary>Where a column of a plan comes from: followed down through the nodes that pass it on unchanged.</summary>
internal static class ColumnLineage
{
    /// <summary>
    /// The first node below <paramref name="plan"/> (or itself) that makes column <paramref name="column"/> rather than
    /// passing it on, and the column's index there. Projections of a plain column, filters, a lookup join's stream columns and the row
    /// columns of a per-window top-N pass columns on.
    /// </summary>
    public static (LogicalPlan Plan, int Column) Source(LogicalPlan plan, int column)
    {
        while (true)
        {
            switch (plan)
            {
                case LogicalPlan.Project p when p.Expressions[column] is Binding.BoundExpression.Column c:
                    plan = p.Input;
                    column = c.Index;
                    continue;
                case LogicalPlan.Filter f:
                    plan = f.Input;
                    continue;
                case LogicalPlan.LookupJoin l when column < l.Input.Columns.Count:
                    plan = l.Input;
                    continue;
                case LogicalPlan.WindowTopN t when column < t.Ranking.RowWidth:
                    plan = t.Input;
                    continue;
                default:
                    return (plan, column);
            }
        }
    }
}
