using System.Globalization;
using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Functions;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;
using SortKey = DataPlane.SqlTransforms.Planning.SortKey;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// Resolves a parsed statement against the sources' schemas and the function registry into a logical plan:
/// names to column positions (unquoted names case-insensitively, an exact match first), functions to overloads,
/// implicit conversions made explicit, constants folded. Errors carry the position of the offending name or
/// expression, what was expected and the nearest names. Over streams, aggregation, DISTINCT, ORDER BY and LIMIT are
/// refused until windows exist.
/// </summary>
internal sealed partial class Binder
{
    private readonly string _sql;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<PlanColumn>> _sources;
    private readonly FunctionRegistry _functions;
    private readonly bool _streaming;
    private readonly List<Dictionary<string, LogicalPlan>> _ctes = [];

    public Binder(string sql, IReadOnlyDictionary<string, IReadOnlyList<PlanColumn>> sources, FunctionRegistry functions, bool streaming)
    {
        _sql = sql;
        _sources = sources;
        _functions = functions;
        _streaming = streaming;
    }

    public LogicalPlan BindQuery(QueryExpression query)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (query)
        {
            case QueryExpression.Select s: return BindSelect(s, []);
            case QueryExpression.UnionAll u: return BindUnion(u);
            case QueryExpression.Query q:
            {
                var ctes = new Dictionary<string, LogicalPlan>(StringComparer.OrdinalIgnoreCase);
                _ctes.Add(ctes);
                try
                {
                    foreach (var cte in q.With)
                    {
                        if (ctes.ContainsKey(cte.Name.Text))
                            throw Error(cte.Name.Position, $"the WITH query \"{cte.Name.Text}\" is defined twice");
                        ctes[cte.Name.Text] = BindQuery(cte.Query);
                    }
                    if (q.OrderBy.Count == 0 && q.Limit is null && q.Offset is null) return BindQuery(q.Body);
                    if (q.Body is QueryExpression.Select select) return BindSelect(select, q.OrderBy, q.Limit, q.Offset);
                    var plan = BindQuery(q.Body);
                    return OrderAndLimit(plan, q.OrderBy, q.Limit, q.Offset, null);
                }
                finally
                {
                    _ctes.RemoveAt(_ctes.Count - 1);
                }
            }
        }
        throw new NotSupportedException(query.GetType().Name);
    }

    private LogicalPlan BindUnion(QueryExpression.UnionAll u)
    {
        var inputs = u.Inputs.Select(BindQuery).ToList();
        int width = inputs[0].Columns.Count;
        for (int i = 1; i < inputs.Count; i++)
            if (inputs[i].Columns.Count != width)
                throw Error(u.Inputs[i].Start, $"each query of a UNION ALL must have the same number of columns: the first has {width}, this one {inputs[i].Columns.Count}");
        var types = new SqlType[width];
        for (int c = 0; c < width; c++)
        {
            var common = TypeCoercion.Common(inputs.Select(p => p.Columns[c].Type));
            if (common is null)
                throw Error(u.Inputs[1].Start, $"column {c + 1} of the UNION ALL has types {string.Join(" and ", inputs.Select(p => p.Columns[c].Type).Distinct())}, which have no common type; CAST one of them");
            types[c] = common.Kind == SqlTypeKind.Null ? SqlType.Integer : common;
        }
        var aligned = new List<LogicalPlan>();
        foreach (var input in inputs)
        {
            if (Enumerable.Range(0, width).All(c => input.Columns[c].Type == types[c])) { aligned.Add(input); continue; }
            var exprs = Enumerable.Range(0, width).Select(c => Coerce(new BoundExpression.Column(c, input.Columns[c].Name, input.Columns[c].Type, input.Columns[c].Nullable), types[c], u.Start)).ToList();
            aligned.Add(new LogicalPlan.Project(input, exprs, exprs.Select((e, c) => new PlanColumn(inputs[0].Columns[c].Name, types[c], e.Nullable)).ToList()));
        }
        var columns = Enumerable.Range(0, width).Select(c => new PlanColumn(inputs[0].Columns[c].Name, types[c], aligned.Any(a => a.Columns[c].Nullable))).ToList();
        return new LogicalPlan.Project(new LogicalPlan.UnionAll(aligned), columns.Select((c, i) => (BoundExpression)new BoundExpression.Column(i, c.Name, c.Type, c.Nullable)).ToList(), columns);
    }

    private LogicalPlan BindFrom(TableReference? from)
    {
        if (from is null) return new LogicalPlan.OneRow();
        switch (from)
        {
            case TableReference.Named { Qualifiers.Count: > 0 } table:
                throw LookupOutsideJoin(table);
            case TableReference.Named n:
            {
                string alias = (n.Alias ?? n.Name).Text;
                for (int i = _ctes.Count - 1; i >= 0; i--)
                    if (_ctes[i].TryGetValue(n.Name.Text, out var cte))
                        return Requalify(cte, alias);
                var source = _sources.Keys.FirstOrDefault(k => n.Name.Matches(k) && k == n.Name.Text) ?? _sources.Keys.FirstOrDefault(n.Name.Matches);
                if (source is null)
                {
                    var names = _sources.Keys.Concat(_ctes.SelectMany(c => c.Keys));
                    throw Error(n.Name.Position, $"there is no stream or WITH query named \"{n.Name.Text}\"" + NearestNames.Suggest(n.Name.Text, names)
                        + (_sources.Count > 0 && _sources.Count <= 20 ? $" (streams: {string.Join(", ", _sources.Keys)})" : ""));
                }
                var columns = _sources[source];
                return new LogicalPlan.Scan(source, Enumerable.Range(0, columns.Count).ToList(), columns.Select(c => c with { Qualifier = alias }).ToList());
            }
            case TableReference.Subquery s:
                return Requalify(BindQuery(s.Query), s.Alias?.Text);
            case JoinedTables j:
                return BindJoin(j);
        }
        throw new NotSupportedException(from.GetType().Name);
    }

    /// <summary>The plan with its columns renamed to be qualified by <paramref name="alias"/>.</summary>
    private static LogicalPlan Requalify(LogicalPlan plan, string? alias)
    {
        var columns = plan.Columns.Select(c => c with { Qualifier = alias }).ToList();
        return plan switch
        {
            LogicalPlan.Scan s => s with { Columns = columns },
            LogicalPlan.Project p => p with { Columns = columns },
            _ => new LogicalPlan.Project(plan, plan.Columns.Select((c, i) => (BoundExpression)new BoundExpression.Column(i, c.Name, c.Type, c.Nullable)).ToList(), columns),
        };
    }

    private LogicalPlan BindSelect(QueryExpression.Select s, IReadOnlyList<OrderItem> orderBy, SqlExpression? limit = null, SqlExpression? offset = null)
    {
        var input = BindFrom(s.From);
        var scope = new Scope(input.Columns);
        if (s.Where is not null)
        {
            var predicate = BindCondition(s.Where, scope, "WHERE");
            input = new LogicalPlan.Filter(input, predicate);
        }

        // expand stars
        var items = new List<(SqlExpression Expression, string Name, int Position)>();
        foreach (var item in s.Items)
        {
            if (item.Expression is SqlExpression.Star star)
            {
                bool any = false;
                for (int i = 0; i < scope.Columns.Count; i++)
                {
                    var c = scope.Columns[i];
                    if (star.Qualifier is not null && (c.Qualifier is null || !star.Qualifier.Matches(c.Qualifier))) continue;
                    items.Add((new SqlExpression.ColumnRef([new SqlName(c.Name, true, star.Start)], star.Start, star.End) { Height = 1 } is var r && c.Qualifier is not null
                        ? new SqlExpression.ColumnRef([new SqlName(c.Qualifier, true, star.Start), new SqlName(c.Name, true, star.Start)], star.Start, star.End) : r, c.Name, star.Start));
                    any = true;
                }
                if (!any)
                    throw Error(star.Start, star.Qualifier is null ? "SELECT * needs a FROM clause" : $"there is no table \"{star.Qualifier.Text}\" in FROM");
                continue;
            }
            string name = item.Alias?.Text ?? DefaultName(item.Expression);
            items.Add((item.Expression, name, item.Expression.Start));
        }

        if (items.Any(i => ContainsOver(i.Expression)))
            return BindRanking(s, input, scope, items, orderBy, limit, offset);
        bool aggregating = s.GroupBy.Count > 0 || s.Having is not null || items.Any(i => ContainsAggregate(i.Expression));
        bool windowed = s.GroupBy.Any(k => WindowCall(k, items, scope) is not null);
        // GROUP BY keys without a window is an updating aggregate (one row per key in the sink); without keys, or with
        // HAVING (a key's row would have to leave the table when it stops matching), it still needs a window.
        bool unbounded = aggregating && !windowed && (s.GroupBy.Count == 0 || s.Having is not null);
        if (unbounded || s.Distinct || orderBy.Count > 0 || limit is not null || offset is not null)
            RefuseOnStream(s, unbounded, orderBy, limit ?? offset);

        LogicalPlan plan;
        List<BoundExpression> outputs;
        if (aggregating)
            (plan, outputs) = BindAggregate(s, input, scope, items);
        else if (items.Any(i => ContainsUnnest(i.Expression)))
            (plan, outputs) = BindUnnest(input, scope, items);
        else
        {
            plan = input;
            outputs = items.Select(i => Bind(i.Expression, scope)).ToList();
        }
        var columns = outputs.Select((e, i) => new PlanColumn(items[i].Name, e.Type.Kind == SqlTypeKind.Null ? SqlType.Integer : e.Type, e.Nullable)).ToList();
        outputs = outputs.Select((e, i) => e.Type.Kind == SqlTypeKind.Null ? new BoundExpression.Literal(null, SqlType.Integer) : e).ToList();
        LogicalPlan result = new LogicalPlan.Project(plan, outputs, columns);
        if (s.Distinct)
            result = new LogicalPlan.Aggregate(result, Enumerable.Range(0, columns.Count).ToList(), [], columns);
        return OrderAndLimit(result, orderBy, limit, offset, items.Select(i => i.Expression).ToList());
    }

    private void RefuseOnStream(QueryExpression.Select s, bool aggregating, IReadOnlyList<OrderItem> orderBy, SqlExpression? limit)
    {
        if (!_streaming) return;
        if (aggregating && s.GroupBy.Count > 0)
            throw Error(s.Having!.Start,
                "HAVING over an updating aggregate (GROUP BY keys without a window) is not supported: a key's row would have to leave the sink table when it stops matching; filter when reading the table, or GROUP BY a window too");
        if (aggregating)
            throw Error(s.GroupByPosition >= 0 ? s.GroupByPosition : s.Start,
                "aggregation over a stream needs a window: GROUP BY tumble(INTERVAL '1 minute'), hop(slide, width) or session(gap), with or without keys; or GROUP BY keys alone for an updating aggregate (one row per key in the sink table); an aggregate without keys or a window runs over bounded input only (dataplane sql run)");
        if (s.Distinct)
            throw Error(s.Start, "SELECT DISTINCT over a stream would remember every row; it comes with windows in a later version");
        if (orderBy.Count > 0)
            throw Error(orderBy[0].Expression.Start, "ORDER BY over a stream needs a window, which comes with stateful SQL in a later version");
        throw Error(limit!.Start, "LIMIT over a stream would stop it; it is supported over bounded input only");
    }

    private LogicalPlan OrderAndLimit(LogicalPlan plan, IReadOnlyList<OrderItem> orderBy, SqlExpression? limit, SqlExpression? offset, IReadOnlyList<SqlExpression>? selectExpressions)
    {
        if (_streaming && (orderBy.Count > 0 || limit is not null || offset is not null))
            throw Error((orderBy.Count > 0 ? orderBy[0].Expression : limit ?? offset)!.Start,
                orderBy.Count > 0 ? "ORDER BY over a stream needs a window, which comes with stateful SQL in a later version" : "LIMIT over a stream would stop it; it is supported over bounded input only");
        if (orderBy.Count > 0)
        {
            var keys = new List<SortKey>();
            foreach (var item in orderBy)
                keys.Add(new SortKey(OrderColumn(plan, item.Expression, selectExpressions), item.Descending, item.NullsFirst ?? false));
            plan = new LogicalPlan.Sort(plan, keys);
        }
        if (limit is not null || offset is not null)
            plan = new LogicalPlan.Limit(plan, limit is null ? null : Constant(limit, "LIMIT"), offset is null ? 0 : Constant(offset, "OFFSET")!.Value);
        return plan;
    }

    private int OrderColumn(LogicalPlan plan, SqlExpression e, IReadOnlyList<SqlExpression>? selectExpressions)
    {
        if (e is SqlExpression.Literal { Kind: LiteralKind.Integer } ordinal)
        {
            if (int.TryParse(ordinal.Text, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= plan.Columns.Count) return n - 1;
            throw Error(e.Start, $"ORDER BY {ordinal.Text} is not a column position: the query has {plan.Columns.Count} columns");
        }
        if (e is SqlExpression.ColumnRef { Parts.Count: 1 } c)
            for (int i = 0; i < plan.Columns.Count; i++)
                if (c.Parts[0].Matches(plan.Columns[i].Name)) return i;
        if (selectExpressions is not null)
        {
            string text = Normalized(e);
            for (int i = 0; i < selectExpressions.Count; i++)
                if (Normalized(selectExpressions[i]) == text) return i;
        }
        throw Error(e.Start, "ORDER BY must name an output column, by name or position (1, 2, ...), or repeat a select expression"
            + NearestNames.Suggest(e is SqlExpression.ColumnRef r ? r.Parts[^1].Text : "", plan.Columns.Select(x => x.Name)));
    }

    private long? Constant(SqlExpression e, string clause)
    {
        BoundExpression bound;
        try { bound = Bind(e, Scope.Empty); }
        catch (SqlException) { throw Error(e.Start, $"{clause} takes a constant whole number of at least 0"); }
        if (bound is BoundExpression.Literal { Value: int i } && i >= 0) return i;
        if (bound is BoundExpression.Literal { Value: long l } && l >= 0) return l;
        throw Error(e.Start, $"{clause} takes a constant whole number of at least 0");
    }

    private (LogicalPlan, List<BoundExpression>) BindUnnest(LogicalPlan input, Scope scope, List<(SqlExpression Expression, string Name, int Position)> items)
    {
        var lists = new List<BoundExpression>();
        var unnestScope = new UnnestContext(lists, scope.Columns.Count);
        var outputs = items.Select(i => Bind(i.Expression, scope, unnest: unnestScope)).ToList();
        int n = scope.Columns.Count;
        var pre = scope.Columns.Select((c, i) => (BoundExpression)new BoundExpression.Column(i, c.Name, c.Type, c.Nullable)).Concat(lists).ToList();
        var preColumns = scope.Columns.Concat(lists.Select((l, i) => new PlanColumn("__list" + i, l.Type, l.Nullable))).ToList();
        var project = new LogicalPlan.Project(input, pre, preColumns);
        // the unnested elements take the lists' places, right after the input columns: the select expressions were bound so
        var unnestColumns = scope.Columns.Concat(lists.Select(l => new PlanColumn("unnest", l.Type.Element!, true))).ToList();
        return (new LogicalPlan.Unnest(project, Enumerable.Range(n, lists.Count).ToList(), unnestColumns), outputs);
    }

    private static bool ContainsUnnest(SqlExpression e) => Walk(e).Any(x => x is SqlExpression.FunctionCall f && f.Name.Text.Equals("unnest", StringComparison.OrdinalIgnoreCase));

    private bool ContainsAggregate(SqlExpression e) => Walk(e).Any(x => x is SqlExpression.FunctionCall f && _functions.Aggregate(f.Name.Text) is not null);

    /// <summary>Every node of an expression (iteratively: no recursion).</summary>
    private static IEnumerable<SqlExpression> Walk(SqlExpression root)
    {
        var stack = new Stack<SqlExpression>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            yield return e;
            foreach (var c in SyntaxChildren(e)) if (c is not null) stack.Push(c);
        }
    }

    private static IEnumerable<SqlExpression?> SyntaxChildren(SqlExpression e) => e switch
    {
        SqlExpression.Unary u => [u.Operand],
        SqlExpression.Binary b => [b.Left, b.Right],
        SqlExpression.And a => a.Terms,
        SqlExpression.Or o => o.Terms,
        SqlExpression.Not n => [n.Operand],
        SqlExpression.IsNull n => [n.Operand],
        SqlExpression.IsBoolean n => [n.Operand],
        SqlExpression.IsDistinctFrom d => [d.Left, d.Right],
        SqlExpression.Between b => [b.Operand, b.Low, b.High],
        SqlExpression.InList i => i.Items.Prepend(i.Operand),
        SqlExpression.Like l => [l.Operand, l.Pattern, l.Escape],
        SqlExpression.Case c => c.Whens.SelectMany(w => new[] { w.When, w.Then }).Append(c.Operand).Append(c.Else),
        SqlExpression.Cast c => [c.Operand],
        SqlExpression.FunctionCall f => f.Filter is null ? f.Arguments : f.Arguments.Append(f.Filter),
        SqlExpression.FieldAccess f => [f.Operand],
        SqlExpression.Index i => [i.Operand, i.Position],
        SqlExpression.ListValue l => l.Items,
        SqlExpression.StructValue s => s.Fields.Select(f => f.Value),
        _ => [],
    };

    /// <summary>The name DuckDB gives an output column without an alias: the column's name, or the expression's text.</summary>
    private string DefaultName(SqlExpression e) => e switch
    {
        SqlExpression.ColumnRef c => c.Parts[^1].Text,
        SqlExpression.FieldAccess f => f.Field.Text,
        SqlExpression.Cast { Operand: SqlExpression.ColumnRef c } => c.Parts[^1].Text,
        _ => _sql[e.Start..Math.Min(e.End, _sql.Length)].Trim(),
    };

    private string Normalized(SqlExpression e) =>
        new string(_sql[e.Start..Math.Min(e.End, _sql.Length)].Where(ch => !char.IsWhiteSpace(ch)).ToArray()).ToLowerInvariant();

    private SqlException Error(int offset, string problem) => new(problem, SourcePosition.At(_sql, offset), _sql);
}
