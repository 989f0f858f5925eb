using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// IS [NOT] DISTINCT FROM: two NULLs are not distinct, a NULL and a value are; otherwise the values' equality.
/// <paramref name="equal"/> compares the two (shared) operands.
/// </summary>
internal sealed class IsDistinctKernel(SharedKernel left, SharedKernel right, Kernel equal, bool negated) : Kernel(SqlType.Boolean)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = Vectors.Validity(left.Evaluate(context));
        var r = Vectors.Validity(right.Evaluate(context));
        var eq = (BooleanArray)equal.Evaluate(context);
        int n = context.Length;
        var bits = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++)
        {
            bool lv = Vectors.Get(l, i), rv = Vectors.Get(r, i);
            bool distinct = lv != rv || (lv && eq.GetValue(i) != true);
            if (distinct != negated) Vectors.Set(bits, i);
        }
        return Vectors.Boolean(bits, null, n);
    }
}
