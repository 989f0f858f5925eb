using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// Windows in GROUP BY: <c>tumble(width)</c>, <c>hop(slide, width)</c>, <c>session(gap)</c>, each over the event
/// time of the stream read (its watermark column), or the processing time when no stream declares one.
/// </summary>
internal sealed partial class Binder
{
    /// <summary>Per source, its event time column (from its watermark).</summary>
    public IReadOnlyDictionary<string, string> EventTimeColumns { get; init; } = new Dictionary<string, string>();

    internal static bool IsWindowFunction(string name) =>
        name.Equals("tumble", StringComparison.OrdinalIgnoreCase) || name.Equals("hop", StringComparison.OrdinalIgnoreCase)
        || name.Equals("session", StringComparison.OrdinalIgnoreCase);

    /// <summary>The window call of a GROUP BY (by position or select-list alias too), or null.</summary>
    private static SqlExpression.FunctionCall? WindowCall(SqlExpression key, List<(SqlExpression Expression, string Name, int Position)> items, Scope scope)
    {
        var e = key;
        if (key is SqlExpression.Literal { Kind: LiteralKind.Integer } ordinal && int.TryParse(ordinal.Text, out int n) && n >= 1 && n <= items.Count)
            e = items[n - 1].Expression;
        else if (key is SqlExpression.ColumnRef { Parts.Count: 1 } c && !scope.Columns.Any(x => c.Parts[0].Matches(x.Name))
                 && items.FirstOrDefault(i => c.Parts[0].Matches(i.Name)) is { Expression: not null } alias)
            e = alias.Expression;
        return e is SqlExpression.FunctionCall f && IsWindowFunction(f.Name.Text) ? f : null;
    }

    private WindowSpec BindWindow(SqlExpression.FunctionCall f, BoundExpression time)
    {
        string name = f.Name.Text.ToLowerInvariant();
        int expected = name == "hop" ? 2 : 1;
        string usage = name switch
        {
            "tumble" => "tumble(INTERVAL '1 minute')",
            "hop" => "hop(INTERVAL '10 seconds', INTERVAL '1 minute') (slide, then width)",
            _ => "session(INTERVAL '5 minutes') (the gap)",
        };
        if (f.Arguments.Count != expected || f.Distinct || f.IsStar)
            throw Error(f.Start, $"{name} takes {(expected == 1 ? "one interval" : "two intervals")}: {usage}; the event time is the stream's watermark column");
        var sizes = f.Arguments.Select(a => Duration(a, name, usage)).ToList();
        bool processing = time is not BoundExpression.Column;
        return name switch
        {
            "tumble" => new WindowSpec(WindowKind.Tumble, sizes[0], sizes[0], 0, processing),
            "hop" => sizes[0] <= sizes[1]
                ? new WindowSpec(WindowKind.Hop, sizes[1], sizes[0], 0, processing)
                : throw Error(f.Arguments[0].Start, $"hop's slide ({Text(f.Arguments[0])}) is longer than its width ({Text(f.Arguments[1])}): records between windows would belong to none; {usage}"),
            _ => new WindowSpec(WindowKind.Session, 0, 0, sizes[0], processing),
        };
    }

    private long Duration(SqlExpression e, string name, string usage)
    {
        BoundExpression bound;
        try { bound = Bind(e, Scope.Empty); }
        catch (Diagnostics.SqlException) { throw Error(e.Start, $"{name} takes constant intervals: {usage}; the event time is the stream's watermark column"); }
        if (bound is not BoundExpression.Literal { Value: IntervalValue interval })
            throw Error(e.Start, $"{name} takes constant intervals: {usage}");
        long micros = interval.Months == 0 ? interval.Days * IntervalValue.MicrosPerDay + interval.Micros : -1;
        if (interval.Months != 0 || micros <= 0)
            throw Error(e.Start, $"a window's interval must be longer than zero and without months or years (a month has no fixed length): {usage}");
        return micros;
    }

    private string Text(SqlExpression e) => _sql[e.Start..Math.Min(e.End, _sql.Length)].Trim();

    /// <summary>
    /// The event time a window groups by: the watermark column of the stream read (found by name among the FROM's
    /// columns), else processing time (now()) when no stream read declares one.
    /// </summary>
    private BoundExpression EventTime(QueryExpression.Select s, Scope scope, SqlExpression.FunctionCall window)
    {
        var declared = EventTimeColumns.Values.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        string? source = s.From is TableReference.Named n ? _sources.Keys.FirstOrDefault(n.Name.Matches) : null;
        var candidates = source is not null && EventTimeColumns.TryGetValue(source, out var own) ? [own] : declared;
        foreach (var name in candidates)
        {
            int index = -1;
            for (int i = 0; i < scope.Columns.Count; i++)
                if (scope.Columns[i].Name.Equals(name, StringComparison.OrdinalIgnoreCase)) { index = i; break; }
            if (index < 0) continue;
            var column = scope.Columns[index];
            if (!column.Type.IsTimestamp)
                throw Error(window.Start, $"the window's event time column \"{column.Name}\" is {column.Type} here; it must be a TIMESTAMP");
            return new BoundExpression.Column(index, column.Name, column.Type, column.Nullable);
        }
        if (source is not null && EventTimeColumns.ContainsKey(source) || source is null && declared.Count > 0)
            throw Error(window.Start, $"the window needs the event time column ({string.Join(" or ", candidates)}) among the columns of FROM; select it in the subquery");
        return Call("now", [], [], window.Start, "now");
    }

    /// <summary>The window whose window_start (or window_end) column <paramref name="column"/> of <paramref name="plan"/> is:
    /// a windowed aggregation's first two columns, or the two a top-N that assigns windows adds after its rows.</summary>
    private static (WindowSpec Window, bool IsEnd)? WindowOf(LogicalPlan plan, int column) => ColumnLineage.Source(plan, column) switch
    {
        (LogicalPlan.Aggregate { Window: { } w }, var c) when c < 2 => (w, c == 1),
        (LogicalPlan.WindowTopN { Ranking: { Window: { } w, AssignsWindow: true } } t, var c) when c < t.Ranking.RowWidth + 2 => (w, c == t.Ranking.RowWidth + 1),
        _ => null,
    };
}
