using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// Joins in FROM: the ON condition split into equality keys (one side's expression = the other's) and the rest; over
/// streams, the bound that lets each side's rows be forgotten: the same window on both sides (the windows' bounds among
/// the keys), or the event times of the two streams within an interval of each other. Without one, a stream-stream join
/// would keep every row forever, so it is refused.
/// </summary>
internal sealed partial class Binder
{
    private const string JoinUsage =
        "join windowed subqueries on their window (ON a.window_end = b.window_end AND a.k = b.k), or bound the streams' event times "
        + "(ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '10' MINUTE AND b.ts)";

    private LogicalPlan BindJoin(JoinedTables j)
    {
        if (j.Right is TableReference.Named { Qualifiers.Count: > 0 } table) return BindLookupJoin(j, table);
        if (j.Left is TableReference.Named { Qualifiers.Count: > 0 } first)
            throw Error(first.Start, $"a lookup join reads the stream on the left and the table on the right: FROM <stream> s JOIN {first.QualifiedName} t ON s.key = t.key");
        var left = BindFrom(j.Left);
        var right = BindFrom(j.Right);
        var leftTables = left.Columns.Select(c => c.Qualifier).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var twice = right.Columns.Select(c => c.Qualifier).OfType<string>().FirstOrDefault(leftTables.Contains);
        if (twice is not null)
            throw Error(j.Right.Start, $"both sides of the join are called \"{twice}\"; give one an alias (FROM {twice} AS a JOIN {twice} AS b ON ...)");
        int width = left.Columns.Count;
        var scope = new Scope([.. left.Columns, .. right.Columns]);
        var leftKeys = new List<BoundExpression>();
        var rightKeys = new List<BoundExpression>();
        var residual = new List<BoundExpression>();
        var conjuncts = j.On is null ? [] : Conjuncts(j.On);
        foreach (var term in conjuncts)
        {
            var bound = BindCondition(term, scope, "ON");
            if (term is SqlExpression.Binary { Operator: "=" } equal && EqualityKey(equal, scope, width) is { } key)
            {
                leftKeys.Add(key.Left);
                rightKeys.Add(key.Right);
                continue;
            }
            if (bound is not BoundExpression.Literal { Value: true }) residual.Add(bound);
        }
        var condition = residual.Count switch
        {
            0 => null,
            1 => residual[0],
            _ => new BoundExpression.And(residual, residual.Any(r => r.Nullable)),
        };
        JoinTime? time = null;
        if (_streaming)
            time = WindowJoin(left, right, leftKeys, rightKeys) ?? IntervalJoin(j, conjuncts, scope, left, right)
                ?? throw Error(j.Start, (Windowed(left) && Windowed(right)
                    ? "both sides of the join are windowed, but the join does not match their windows: add a.window_end = b.window_end to ON"
                    : "a join of two streams needs a window or a time bound, or its state would grow forever (every row kept, waiting for a match that may come)")
                    + "; " + JoinUsage);
        bool leftNullable = j.Kind is JoinKind.Right or JoinKind.Full, rightNullable = j.Kind is JoinKind.Left or JoinKind.Full;
        var columns = left.Columns.Select(c => leftNullable ? c with { Nullable = true } : c)
            .Concat(right.Columns.Select(c => rightNullable ? c with { Nullable = true } : c)).ToList();
        return new LogicalPlan.Join(left, right, new JoinSpec(j.Kind, leftKeys, rightKeys, condition, time), columns);
    }

    /// <summary>The terms of an AND chain (nested ANDs flattened).</summary>
    private static List<SqlExpression> Conjuncts(SqlExpression e)
    {
        var terms = new List<SqlExpression>();
        var pending = new Stack<SqlExpression>([e]);
        while (pending.TryPop(out var x))
        {
            if (x is SqlExpression.And and) { for (int i = and.Terms.Count - 1; i >= 0; i--) pending.Push(and.Terms[i]); }
            else terms.Add(x);
        }
        return terms;
    }

    /// <summary><c>x = y</c> where x reads only one side and y only the other: the two at their common type, each over its own side's columns.</summary>
    private (BoundExpression Left, BoundExpression Right)? EqualityKey(SqlExpression.Binary equal, Scope scope, int width)
    {
        var a = Bind(equal.Left, scope);
        var b = Bind(equal.Right, scope);
        var sideA = Side(a, width);
        var sideB = Side(b, width);
        if (sideA is null || sideB is null || sideA == sideB || !a.IsDeterministic || !b.IsDeterministic) return null;
        if (sideA == 1) (a, b) = (b, a);
        var type = TypeCoercion.Common(a.Type, b.Type);
        if (type is null || type.Kind == SqlTypeKind.Null || !Execution.Aggregates.KeyCodec.Supports(type)) return null;
        a = Coerce(a, type, equal.Left.Start);
        b = Coerce(b, type, equal.Right.Start).Rewrite(x => x is BoundExpression.Column c ? c with { Index = c.Index - width } : x);
        return (a, b);
    }

    /// <summary>0 when the expression reads only left columns, 1 only right ones, null for both or none.</summary>
    private static int? Side(BoundExpression e, int width)
    {
        var columns = new HashSet<int>();
        e.CollectColumns(columns);
        if (columns.Count == 0) return null;
        if (columns.All(c => c < width)) return 0;
        if (columns.All(c => c >= width)) return 1;
        return null;
    }

    private static bool Windowed(LogicalPlan plan) =>
        Enumerable.Range(0, plan.Columns.Count).Any(i => WindowOf(plan, i) is not null);

    /// <summary>A window join: a key pair equating the two sides' window_end (or window_start of fixed-width windows).</summary>
    private static JoinTime? WindowJoin(LogicalPlan left, LogicalPlan right, List<BoundExpression> leftKeys, List<BoundExpression> rightKeys)
    {
        JoinTime? found = null;
        for (int i = 0; i < leftKeys.Count; i++)
        {
            if (leftKeys[i] is not BoundExpression.Column l || rightKeys[i] is not BoundExpression.Column r) continue;
            if (WindowOf(left, l.Index) is not { } a || WindowOf(right, r.Index) is not { } b || a.IsEnd != b.IsEnd) continue;
            // A side's rows of a window all arrive before its watermark reaches the window's end: window_end itself, or
            // window_start plus the width (a session's width is its own, so only its end can be matched).
            if (a.IsEnd)
                return new JoinTime(JoinTimeKind.Window, l.Index, r.Index, -1, -1);
            if (a.Window.Kind != Windows.WindowKind.Session && b.Window.Kind != Windows.WindowKind.Session)
                found ??= new JoinTime(JoinTimeKind.Window, l.Index, r.Index, b.Window.WidthMicros - 1, a.Window.WidthMicros - 1);
        }
        return found;
    }

    /// <summary>Whether column <paramref name="index"/> of <paramref name="plan"/> is the event time (watermark column) of a stream it reads.</summary>
    private bool IsEventTime(LogicalPlan plan, int index) =>
        ColumnLineage.Source(plan, index) is (LogicalPlan.Scan s, var column)
        && EventTimeColumns.TryGetValue(s.Source, out var eventTime)
        && _sources[s.Source][s.Projection[column]].Name.Equals(eventTime, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// An interval join: conditions bounding left time - right time from both sides, each time the event time of its
    /// stream (<c>a.ts BETWEEN b.ts - INTERVAL '10' MINUTE AND b.ts</c>, or comparisons such as <c>a.ts &gt;= b.ts</c>).
    /// </summary>
    private JoinTime? IntervalJoin(JoinedTables j, List<SqlExpression> conjuncts, Scope scope, LogicalPlan left, LogicalPlan right)
    {
        int width = left.Columns.Count;
        long? lower = null, upper = null;
        int leftColumn = -1, rightColumn = -1;
        void Bound(SqlExpression small, SqlExpression large)
        {
            // small <= large, each a time column plus a constant
            if (TimeTerm(small, scope) is not { } s || TimeTerm(large, scope) is not { } l) return;
            if ((s.Column < width) == (l.Column < width)) return;
            var (lc, rc) = s.Column < width ? (s.Column, l.Column - width) : (l.Column, s.Column - width);
            if (!IsEventTime(left, lc) || !IsEventTime(right, rc)) return;
            if (leftColumn >= 0 && (leftColumn != lc || rightColumn != rc)) return;
            (leftColumn, rightColumn) = (lc, rc);
            if (s.Column < width) upper = Math.Min(upper ?? long.MaxValue, l.Offset - s.Offset); // L + s <= R + l: L - R <= l - s
            else lower = Math.Max(lower ?? long.MinValue, s.Offset - l.Offset); // R + s <= L + l: L - R >= s - l
        }
        foreach (var term in conjuncts)
        {
            switch (term)
            {
                case SqlExpression.Between { Negated: false } b:
                    Bound(b.Low, b.Operand);
                    Bound(b.Operand, b.High);
                    break;
                case SqlExpression.Binary { Operator: "<" or "<=" } c: Bound(c.Left, c.Right); break;
                case SqlExpression.Binary { Operator: ">" or ">=" } c: Bound(c.Right, c.Left); break;
            }
        }
        if (lower is null && upper is null) return null;
        if (lower is null || upper is null)
        {
            string l = left.Columns[leftColumn].Name, r = right.Columns[rightColumn].Name;
            throw Error(j.Start, lower is null
                ? $"the join bounds the event times only from above ({l} is at most {r} plus a constant): the right side's rows would be kept forever; bound it from below too ({l} BETWEEN {r} - INTERVAL '10' MINUTE AND {r})"
                : $"the join bounds the event times only from below ({l} is at least {r} plus a constant): the left side's rows would be kept forever; bound it from above too ({l} BETWEEN {r} - INTERVAL '10' MINUTE AND {r})");
        }
        return new JoinTime(JoinTimeKind.Interval, leftColumn, rightColumn, -lower.Value, upper.Value, lower.Value, upper.Value);
    }

    /// <summary><c>t</c>, <c>t + INTERVAL ...</c> or <c>t - INTERVAL ...</c> with a constant interval without months: the column and the offset in microseconds.</summary>
    private (int Column, long Offset)? TimeTerm(SqlExpression e, Scope scope)
    {
        long offset = 0;
        if (e is SqlExpression.Binary { Operator: "+" or "-" } b)
        {
            BoundExpression constant;
            try { constant = Bind(b.Right, Scope.Empty); }
            catch (Diagnostics.SqlException) { return null; }
            if (constant is not BoundExpression.Literal { Value: IntervalValue { Months: 0 } interval }) return null;
            long micros = interval.Days * IntervalValue.MicrosPerDay + interval.Micros;
            offset = b.Operator == "+" ? micros : -micros;
            e = b.Left;
        }
        if (e is not SqlExpression.ColumnRef) return null;
        return Bind(e, scope) is BoundExpression.Column { Type.IsTimestamp: true } c ? (c.Index, offset) : null;
    }
}
