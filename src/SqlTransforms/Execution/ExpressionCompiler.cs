using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Functions;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>Turns a bound expression into its kernel tree, once per query. Recursion is bounded by the expression height limit.</summary>
internal static class ExpressionCompiler
{
    public static Kernel Compile(BoundExpression e) => Compile(e, condition: false);

    /// <summary>A WHERE predicate or a WHEN: only TRUE counts (see <see cref="BooleanLogicKernel"/>).</summary>
    public static Kernel CompileCondition(BoundExpression e) => Compile(e, condition: true);

    private static Kernel Compile(BoundExpression e, bool condition)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (e)
        {
            case BoundExpression.Column c: return new ColumnKernel(c.Index, c.Type);
            case BoundExpression.Literal l: return new ConstantKernel(l.Value, l.Type);
            case BoundExpression.Call c: return c.Binding.Compile(c.Arguments.Select(Compile).ToArray(), c.Type);
            case BoundExpression.Cast c: return CastFunctions.Compile(Compile(c.Operand), c.Type, c.Try);
            case BoundExpression.Case c: return new CaseKernel(c.Whens.Select(w => (CompileCondition(w.When), Compile(w.Then))).ToArray(), Compile(c.Else), c.Type);
            case BoundExpression.And a: return new BooleanLogicKernel(a.Terms.Select(t => Compile(t, condition)).ToArray(), isAnd: true, condition);
            case BoundExpression.Or o: return new BooleanLogicKernel(o.Terms.Select(t => Compile(t, condition)).ToArray(), isAnd: false, condition);
            case BoundExpression.Not n: return new NotKernel(Compile(n.Operand));
            case BoundExpression.IsNull n: return new IsNullKernel(Compile(n.Operand), n.Negated);
            case BoundExpression.IsDistinct d:
            {
                var left = new SharedKernel(Compile(d.Left));
                var right = new SharedKernel(Compile(d.Right));
                var type = d.Left.Type.Kind == SqlTypeKind.Null ? d.Right.Type : d.Left.Type;
                return new IsDistinctKernel(left, right, ComparisonOperators.Compile("=", type.Kind == SqlTypeKind.Null ? SqlType.Boolean : type, left, right), d.Negated);
            }
            case BoundExpression.Coalesce c: return new CoalesceKernel(c.Arguments.Select(Compile).ToArray(), c.Type);
            case BoundExpression.FieldAccess f: return new FieldAccessKernel(Compile(f.Operand), f.Field, f.Type);
            case BoundExpression.ListIndex l: return new ListIndexKernel(Compile(l.List), Compile(l.Position), l.Type);
            case BoundExpression.MakeList l: return new MakeListKernel(l.Items.Select(Compile).ToArray(), l.Type);
            case BoundExpression.MakeStruct s: return new MakeStructKernel(s.Fields.Select(Compile).ToArray(), s.Type);
        }
        throw new NotSupportedException(e.GetType().Name);
    }
}
