using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>IS [NOT] NULL: the validity bitmap itself, never NULL.</summary>
internal sealed class IsNullKernel(Kernel operand, bool negated) : Kernel(SqlType.Boolean)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = operand.Evaluate(context);
        int n = context.Length;
        var validity = Vectors.Validity(input) ?? Vectors.AllValid(n);
        var bits = new byte[validity.Length];
        for (int b = 0; b < bits.Length; b++) bits[b] = (byte)(negated ? validity[b] : ~validity[b]);
        return Vectors.Boolean(bits, null, n);
    }
}
