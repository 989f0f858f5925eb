using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Execution;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>A bound expression as readable SQL-like text, for plans and messages.</summary>
internal static class ExpressionText
{
    public static string Of(BoundExpression e, IReadOnlyList<PlanColumn> input) => e switch
    {
        BoundExpression.Column c => c.Index < input.Count ? input[c.Index].Name : "#" + c.Index,
        BoundExpression.Literal l => l.Value is null ? "NULL" : ValueArrays.Get(ValueArrays.FromValues(l.Type, [l.Value]), l.Type, 0) switch
        {
            string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
            bool b => b ? "true" : "false",
            var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
        },
        BoundExpression.Call c when !char.IsLetter(c.Function.Name[0]) && c.Arguments.Count == 2 => $"({Of(c.Arguments[0], input)} {c.Function.Name} {Of(c.Arguments[1], input)})",
        BoundExpression.Call c => $"{c.Function.Name}({string.Join(", ", c.Arguments.Select(a => Of(a, input)))})",
        BoundExpression.Cast c => $"{(c.Try ? "TRY_CAST" : "CAST")}({Of(c.Operand, input)} AS {c.Type})",
        BoundExpression.And a => "(" + string.Join(" AND ", a.Terms.Select(t => Of(t, input))) + ")",
        BoundExpression.Or o => "(" + string.Join(" OR ", o.Terms.Select(t => Of(t, input))) + ")",
        BoundExpression.Not n => $"NOT {Of(n.Operand, input)}",
        BoundExpression.IsNull n => $"{Of(n.Operand, input)} IS {(n.Negated ? "NOT " : "")}NULL",
        BoundExpression.IsDistinct d => $"{Of(d.Left, input)} IS {(d.Negated ? "NOT " : "")}DISTINCT FROM {Of(d.Right, input)}",
        BoundExpression.Case c => "CASE " + string.Join(" ", c.Whens.Select(w => $"WHEN {Of(w.When, input)} THEN {Of(w.Then, input)}")) + $" ELSE {Of(c.Else, input)} END",
        BoundExpression.Coalesce c => $"coalesce({string.Join(", ", c.Arguments.Select(a => Of(a, input)))})",
        BoundExpression.FieldAccess f => $"{Of(f.Operand, input)}.{f.Operand.Type.Fields![f.Field].Name}",
        BoundExpression.ListIndex l => $"{Of(l.List, input)}[{Of(l.Position, input)}]",
        BoundExpression.MakeList l => "[" + string.Join(", ", l.Items.Select(i => Of(i, input))) + "]",
        BoundExpression.MakeStruct s => "{" + string.Join(", ", s.Fields.Select((f, i) => $"'{s.Type.Fields![i].Name}': {Of(f, input)}")) + "}",
        _ => e.GetType().Name,
    };
}
