using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Execution;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// Evaluates deterministic expressions whose inputs are all constants, once, when the query is compiled, by running
/// their kernels over one row. An expression that fails (1 // 0) is left as it is, so each record fails and is
/// counted at run time as it would be without folding. As PostgreSQL's planner does (eval_const_expressions), a
/// function or operator that gives NULL for any NULL argument (strict) gives NULL for a constant NULL one whatever its
/// other arguments are, so x * 10 - NULL is NULL even where x * 10 would overflow; AND/OR drop constant terms that
/// decide nothing, and CASE drops the WHENs a constant FALSE or NULL never takes and stops at a constant TRUE. The
/// functions that are not strict (coalesce, concat, IS DISTINCT FROM, CASE itself) keep their own NULL rules.
/// </summary>
internal static class ConstantFolding
{
    public static BoundExpression Fold(BoundExpression e)
    {
        if (e is BoundExpression.Literal or BoundExpression.Column) return e;
        if (e is BoundExpression.And a) return Logic(a.Terms, isAnd: true, e);
        if (e is BoundExpression.Or o) return Logic(o.Terms, isAnd: false, e);
        // a NULL argument of a function that propagates NULL decides the result, whatever the others are (DuckDB folds so too)
        if (e is BoundExpression.Call { Binding.PropagatesNull: true } call && call.Arguments.Any(a => a is BoundExpression.Literal { Value: null }))
            return BoundExpression.Literal.Null(e.Type);
        if (e is BoundExpression.Cast { Operand: BoundExpression.Literal { Value: null } }) return BoundExpression.Literal.Null(e.Type);
        if (e is BoundExpression.Case c && Arms(c) is { } simpler) return Fold(simpler);
        if (!e.IsDeterministic || e.Children().Any(c => c is not BoundExpression.Literal)) return e;
        return TryEvaluate(e, out var value) ? new BoundExpression.Literal(value, e.Type) : e;
    }

    /// <summary>The value of a constant expression; false when evaluating it fails.</summary>
    public static bool TryEvaluate(BoundExpression e, out object? value)
    {
        value = null;
        var kernel = ExpressionCompiler.Compile(e);
        var context = new EvalContext();
        context.Start([], 1, 0);
        var result = kernel.Evaluate(context);
        if (context.Errors.Count > 0) return false;
        value = ValueArrays.Get(result, e.Type, 0);
        return true;
    }

    /// <summary>
    /// <paramref name="c"/> without the WHENs whose constant condition is FALSE or NULL, ending at the first constant
    /// TRUE (its THEN becomes the ELSE); its ELSE alone when no WHEN is left; null when nothing changes.
    /// </summary>
    private static BoundExpression? Arms(BoundExpression.Case c)
    {
        var kept = new List<(BoundExpression When, BoundExpression Then)>(c.Whens.Count);
        var otherwise = c.Else;
        bool changed = false;
        foreach (var (when, then) in c.Whens)
        {
            if (when is BoundExpression.Literal { Value: true }) { otherwise = then; changed = true; break; }
            if (when is BoundExpression.Literal) { changed = true; continue; } // FALSE or NULL: never taken
            kept.Add((when, then));
        }
        if (!changed) return null;
        if (kept.Count == 0) return otherwise.Type == c.Type ? otherwise : null;
        return new BoundExpression.Case(kept, otherwise, c.Type, kept.Any(k => k.Then.Nullable) || otherwise.Nullable);
    }

    private static BoundExpression Logic(IReadOnlyList<BoundExpression> terms, bool isAnd, BoundExpression original)
    {
        var kept = new List<BoundExpression>(terms.Count);
        bool sawNull = false;
        foreach (var t in terms)
        {
            if (t is BoundExpression.Literal { Value: bool b })
            {
                if (b != isAnd) return new BoundExpression.Literal(b, Types.SqlType.Boolean); // FALSE in AND, TRUE in OR decides
                continue; // TRUE in AND, FALSE in OR changes nothing
            }
            if (t is BoundExpression.Literal { Value: null }) sawNull = true;
            kept.Add(t);
        }
        if (kept.Count == 0) return new BoundExpression.Literal(isAnd, Types.SqlType.Boolean);
        // only NULLs left (no term decided it): NULL, a constant the calls around it can fold too (371 IN (0, NULL))
        if (kept.All(k => k is BoundExpression.Literal { Value: null })) return BoundExpression.Literal.Null(Types.SqlType.Boolean);
        if (kept.Count == 1 && !sawNull) return kept[0];
        if (kept.Count == terms.Count) return original;
        return isAnd ? new BoundExpression.And(kept, kept.Any(k => k.Nullable)) : new BoundExpression.Or(kept, kept.Any(k => k.Nullable));
    }
}
