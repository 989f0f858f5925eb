using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;
using SortKey = DataPlane.SqlTransforms.Planning.SortKey;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// Window functions: <c>row_number()</c>, <c>rank()</c>, <c>dense_rank()</c> <c>OVER (PARTITION BY ... ORDER BY ...)</c>
/// as select-list items, bound to a WindowTopN node. Over a stream the partition holds a window, as Flink and
/// RisingWave write top-N and deduplication per window: <c>window_start</c> of a tumble or hop aggregation in a
/// subquery, or <c>tumble(...)</c>/<c>hop(...)</c> itself (which then gives window_start and window_end to the select
/// list); and a filter on the number in an outer query (<c>WHERE rn &lt;= 3</c>, <c>rn = 1</c>) bounds the rows kept
/// per window and key. Over bounded input neither is needed.
/// </summary>
internal sealed partial class Binder
{
    private const string TopNExample =
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY window_start, k ORDER BY n DESC) AS rn FROM (SELECT window_start, k, count(*) AS n FROM input GROUP BY tumble(INTERVAL '1 minute'), k)) WHERE rn <= 3";

    /// <summary>Binds a statement's query: the query, then each window function's limit taken from the filter above it (refused over a stream without one).</summary>
    public LogicalPlan BindStatement(QueryExpression query)
    {
        var plan = RankLimits(BindQuery(query));
        if (_streaming) RequireRankLimits(plan);
        return plan;
    }

    internal static bool IsRankingFunction(string name) =>
        name.Equals("row_number", StringComparison.OrdinalIgnoreCase) || name.Equals("rank", StringComparison.OrdinalIgnoreCase)
        || name.Equals("dense_rank", StringComparison.OrdinalIgnoreCase);

    private static bool ContainsOver(SqlExpression e) => Walk(e).Any(x => x is SqlExpression.FunctionCall { Over: not null });

    /// <summary>A window function (or OVER) where the select list's own items are not: refused, saying where it may be.</summary>
    private Diagnostics.SqlException RankingMisplaced(SqlExpression.FunctionCall f) => f.Over is null && IsRankingFunction(f.Name.Text)
        ? Error(f.Start, $"{f.Name.Text}() is a window function: it needs OVER (PARTITION BY ... ORDER BY ...)")
        : Error(f.Start, $"{f.Name.Text}() OVER (...) is allowed only as an item of its own in a select list (row_number() OVER (...) AS rn), not inside an expression or in WHERE, GROUP BY or ORDER BY; filter on it in an outer query: {TopNExample}");

    /// <summary>A SELECT whose list holds window functions: the input ranked per partition, then the select list over it.</summary>
    private LogicalPlan BindRanking(QueryExpression.Select s, LogicalPlan input, Scope scope, List<(SqlExpression Expression, string Name, int Position)> items,
        IReadOnlyList<OrderItem> orderBy, SqlExpression? limit, SqlExpression? offset)
    {
        WindowColumnsAfterStar(s, scope, items);
        var calls = new List<(int Item, SqlExpression.FunctionCall Call)>();
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i].Expression is SqlExpression.FunctionCall { Over: not null } f) { calls.Add((i, f)); continue; }
            if (Walk(items[i].Expression).FirstOrDefault(x => x is SqlExpression.FunctionCall { Over: not null }) is SqlExpression.FunctionCall nested)
                throw RankingMisplaced(nested);
        }
        var first = calls[0].Call;
        var functions = new List<RankFunction>();
        foreach (var (_, f) in calls)
        {
            string name = f.Name.Text.ToLowerInvariant();
            if (!IsRankingFunction(name))
                throw Error(f.Start, $"{f.Name.Text}() OVER (...) is not supported: the window functions are row_number(), rank() and dense_rank() (top-N and deduplication per window)");
            if (f.Arguments.Count > 0 || f.IsStar || f.Distinct || f.Filter is not null)
                throw Error(f.Start, $"{name}() takes no arguments: {name}() OVER (PARTITION BY ... ORDER BY ...)");
            if (OverText(f.Over!) != OverText(first.Over!))
                throw Error(f.Over!.Start, "the window functions of one SELECT must share one OVER (...); rank differently in another subquery");
            functions.Add(name switch { "row_number" => RankFunction.RowNumber, "rank" => RankFunction.Rank, _ => RankFunction.DenseRank });
        }
        if (s.GroupBy.Count > 0 || s.Having is not null || items.Any(i => ContainsAggregate(i.Expression)))
            throw Error(first.Start, $"a window function cannot rank the groups of its own SELECT here: group in a subquery and rank over it: {TopNExample}");
        if (s.Distinct)
            throw Error(s.Start, "SELECT DISTINCT with a window function is not supported; rank in a subquery and filter outside it");

        // the pre-projection: the input's columns, then the event time (a window assigned here), the keys and the order
        var over = first.Over!;
        int width = scope.Columns.Count;
        var pre = scope.Columns.Select((c, i) => (BoundExpression)new BoundExpression.Column(i, c.Name, c.Type, c.Nullable)).ToList();
        WindowSpec? window = null;
        int? timeColumn = null, windowColumn = null;
        bool windowIsEnd = false;
        var keys = new List<int>();
        var preColumns = scope.Columns.ToList();
        // a column of the input is read where it is; an expression is computed into a column after them
        int Extra(BoundExpression e, string name)
        {
            if (e is BoundExpression.Column c) return c.Index;
            pre.Add(e);
            preColumns.Add(new PlanColumn(name, e.Type, e.Nullable));
            return pre.Count - 1;
        }
        foreach (var p in over.PartitionBy)
        {
            if (p is SqlExpression.FunctionCall wf && IsWindowFunction(wf.Name.Text))
            {
                if (window is not null) throw Error(p.Start, "PARTITION BY takes one window");
                var time = EventTime(s, scope, wf);
                window = BindWindow(wf, time);
                if (window.Kind == WindowKind.Session)
                    throw Error(p.Start, "top-N and deduplication per session window are not supported: rank the rows of a tumble or hop window");
                timeColumn = Extra(time, "window_time");
                continue;
            }
            if (ContainsOver(p) || ContainsAggregate(p)) throw Error(p.Start, "PARTITION BY takes columns or expressions of the FROM's columns, without aggregates or window functions");
            var bound = Bind(p, scope);
            if (!Execution.Aggregates.KeyCodec.Supports(bound.Type))
                throw Error(p.Start, $"PARTITION BY cannot take a {bound.Type}; partition by its fields or elements");
            if (window is null && bound is BoundExpression.Column column && WindowOf(input, column.Index) is { } upstream)
            {
                if (upstream.Window.Kind == WindowKind.Session)
                    throw Error(p.Start, $"top-N and deduplication per session window are not supported (\"{column.Name}\" is a session's): sessions of one start can close at different times; rank the rows of a tumble or hop window");
                window = upstream.Window;
                windowColumn = column.Index;
                windowIsEnd = upstream.IsEnd;
                continue;
            }
            keys.Add(Extra(bound, DefaultName(p)));
        }
        var order = new List<SortKey>();
        foreach (var item in over.OrderBy)
        {
            if (ContainsOver(item.Expression) || ContainsAggregate(item.Expression))
                throw Error(item.Expression.Start, "ORDER BY of OVER takes columns or expressions of the FROM's columns, without aggregates or window functions");
            var bound = Bind(item.Expression, scope);
            if (!Execution.Aggregates.OrderKeyCodec.Supports(bound.Type))
                throw Error(item.Expression.Start, $"ORDER BY of OVER cannot order {bound.Type} values: it takes numbers, text, blobs, booleans, dates and times");
            order.Add(new SortKey(Extra(bound, DefaultName(item.Expression)), item.Descending, item.NullsFirst ?? false));
        }
        if (window is null && _streaming)
            throw Error(over.Start, $"{first.Name.Text}() OVER over a stream needs a window in PARTITION BY, or it would remember every row: window_start of a tumble or hop aggregation in a subquery ({TopNExample}), or the window itself: PARTITION BY tumble(INTERVAL '1 minute'), k");
        var nestedColumn = scope.Columns.FirstOrDefault(c => !Execution.Aggregates.KeyCodec.Supports(c.Type));
        if (nestedColumn is not null)
            throw Error(first.Start, $"a ranked row cannot hold the {nestedColumn.Type} column \"{nestedColumn.Name}\" yet; select flat columns in the subquery that is ranked");

        var project = pre.Count == width ? input : new LogicalPlan.Project(input, pre, preColumns);
        var columns = scope.Columns.ToList();
        if (timeColumn is { } t)
        {
            columns.Add(new PlanColumn("window_start", pre[t].Type, false));
            columns.Add(new PlanColumn("window_end", pre[t].Type, false));
        }
        int firstRank = columns.Count;
        columns.AddRange(calls.Select(c => new PlanColumn(items[c.Item].Name, SqlType.BigInt, false)));
        var spec = new RankingSpec(width, keys, order, functions, over.Start)
        {
            Window = window, TimeColumn = timeColumn, WindowColumn = windowColumn, WindowColumnIsEnd = windowIsEnd,
        };
        LogicalPlan plan = new LogicalPlan.WindowTopN(project, spec, columns);

        var ranked = new Scope(columns);
        var outputs = new List<BoundExpression>();
        for (int i = 0, c = 0; i < items.Count; i++)
        {
            if (c < calls.Count && calls[c].Item == i)
            {
                outputs.Add(new BoundExpression.Column(firstRank + c, items[i].Name, SqlType.BigInt, false));
                c++;
                continue;
            }
            if (ContainsUnnest(items[i].Expression)) throw Error(items[i].Position, "UNNEST is not allowed beside a window function; unnest in a subquery");
            outputs.Add(Bind(items[i].Expression, ranked));
        }
        var outputColumns = outputs.Select((e, i) => new PlanColumn(items[i].Name, e.Type.Kind == SqlTypeKind.Null ? SqlType.Integer : e.Type, e.Nullable)).ToList();
        outputs = outputs.Select(e => e.Type.Kind == SqlTypeKind.Null ? new BoundExpression.Literal(null, SqlType.Integer) : e).ToList();
        return OrderAndLimit(new LogicalPlan.Project(plan, outputs, outputColumns), orderBy, limit, offset, items.Select(i => i.Expression).ToList());
    }

    /// <summary>
    /// With the window in PARTITION BY (tumble(...), hop(...)), an unqualified <c>*</c> of the select list gives
    /// window_start and window_end after the FROM's columns, as Flink's window table functions do.
    /// </summary>
    private static void WindowColumnsAfterStar(QueryExpression.Select s, Scope scope, List<(SqlExpression Expression, string Name, int Position)> items)
    {
        bool assigns = s.Items.Any(i => Walk(i.Expression).Any(x => x is SqlExpression.FunctionCall { Over: { } over }
            && over.PartitionBy.Any(p => p is SqlExpression.FunctionCall w && IsWindowFunction(w.Name.Text))));
        if (!assigns) return;
        int at = 0;
        foreach (var item in s.Items)
        {
            if (item.Expression is not SqlExpression.Star star) { at++; continue; }
            if (star.Qualifier is not null)
            {
                at += scope.Columns.Count(c => c.Qualifier is not null && star.Qualifier.Matches(c.Qualifier));
                continue;
            }
            at += scope.Columns.Count;
            foreach (var name in new[] { "window_start", "window_end" })
                items.Insert(at++, (new SqlExpression.ColumnRef([new SqlName(name, true, star.Start)], star.Start, star.End), name, star.Start));
        }
    }

    private string OverText(OverClause over) =>
        new string(_sql[over.Start..Math.Min(over.End, _sql.Length)].Where(ch => !char.IsWhiteSpace(ch)).ToArray()).ToLowerInvariant();

    /// <summary>
    /// Gives each WindowTopN the limit a filter above it puts on one of its numbers (<c>rn &lt;= 3</c>, <c>rn &lt; 4</c>,
    /// <c>rn = 1</c>, a term of an AND), followed down through projections and filters. The filter stays: the
    /// limit only lets the node forget rows the filter would drop.
    /// </summary>
    private static LogicalPlan RankLimits(LogicalPlan plan)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        plan = plan switch
        {
            LogicalPlan.Filter f => f with { Input = RankLimits(f.Input) },
            LogicalPlan.Project p => p with { Input = RankLimits(p.Input) },
            LogicalPlan.Unnest u => u with { Input = RankLimits(u.Input) },
            LogicalPlan.UnionAll u => u with { Inputs = u.Inputs.Select(RankLimits).ToList() },
            LogicalPlan.Join j => j with { Left = RankLimits(j.Left), Right = RankLimits(j.Right) },
            LogicalPlan.Aggregate a => a with { Input = RankLimits(a.Input) },
            LogicalPlan.Sort s => s with { Input = RankLimits(s.Input) },
            LogicalPlan.Limit l => l with { Input = RankLimits(l.Input) },
            LogicalPlan.WindowTopN t => t with { Input = RankLimits(t.Input) },
            _ => plan,
        };
        if (plan is not LogicalPlan.Filter filter) return plan;
        var terms = filter.Predicate is BoundExpression.And and ? and.Terms : [filter.Predicate];
        var input = filter.Input;
        foreach (var term in terms)
            if (Bound(term) is { } bound)
                input = Limited(input, bound.Column, bound.Count) ?? input;
        return ReferenceEquals(input, filter.Input) ? filter : filter with { Input = input };
    }

    /// <summary>The plan with the WindowTopN whose number <paramref name="column"/> is limited to <paramref name="count"/>, or null when the column is not one.</summary>
    private static LogicalPlan? Limited(LogicalPlan plan, int column, long count)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (plan)
        {
            case LogicalPlan.Project p when p.Expressions[column] is BoundExpression.Column c:
                return Limited(p.Input, c.Index, count) is { } input ? p with { Input = input } : null;
            case LogicalPlan.Filter f:
                return Limited(f.Input, column, count) is { } inner ? f with { Input = inner } : null;
            case LogicalPlan.WindowTopN t:
            {
                int first = t.Columns.Count - t.Ranking.Functions.Count;
                if (column < first) return null;
                var function = t.Ranking.Functions[column - first];
                if (t.Ranking.Limit is { } l && (l.Function != function || l.Count <= count)) return t;
                return t with { Ranking = t.Ranking with { Limit = new RankLimit(function, Math.Max(0, count)) } };
            }
        }
        return null;
    }

    /// <summary>The column and the largest number a term lets through: <c>c &lt;= n</c>, <c>c &lt; n</c>, <c>c = n</c> (either way round).</summary>
    private static (int Column, long Count)? Bound(BoundExpression term)
    {
        if (term is not BoundExpression.Call { Arguments: [var left, var right] } call) return null;
        string op = call.Function.Name;
        if (Number(left) is { } l && right is BoundExpression.Column)
        {
            (left, right) = (right, left);
            op = op switch { ">=" => "<=", ">" => "<", _ => op };
            return Bound(op, left, l);
        }
        return Number(right) is { } r ? Bound(op, left, r) : null;

        static (int, long)? Bound(string op, BoundExpression left, long n) => left is BoundExpression.Column c
            ? op switch { "<=" or "=" => (c.Index, n), "<" => (c.Index, n - 1), _ => null }
            : null;
    }

    private static long? Number(BoundExpression e) => e switch
    {
        BoundExpression.Literal { Value: int i } => i,
        BoundExpression.Literal { Value: long l } => l,
        _ => null,
    };

    private void RequireRankLimits(LogicalPlan plan)
    {
        var pending = new Stack<LogicalPlan>();
        pending.Push(plan);
        while (pending.TryPop(out var node))
        {
            if (node is LogicalPlan.WindowTopN { Ranking.Limit: null } t)
            {
                string name = RankingSpec.Name(t.Ranking.Functions[0]);
                throw Error(t.Ranking.Position, $"{name}() over a stream needs a filter on it in an outer query, which bounds the rows kept per window and key: WHERE rn <= 3, or rn = 1 to keep the first row; for example {TopNExample}");
            }
            foreach (var child in node.Children()) pending.Push(child);
        }
    }
}
