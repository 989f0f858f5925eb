using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>NOT: flips the value bits; NULL stays NULL.</summary>
internal sealed class NotKernel(Kernel operand) : Kernel(SqlType.Boolean)
{
    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = (BooleanArray)operand.Evaluate(context);
        int n = context.Length;
        var bits = new byte[(n + 7) / 8];
        var values = input.ValueBuffer.Span;
        for (int i = 0; i < n; i++)
        {
            int j = i + input.Offset;
            if ((values[j >> 3] & (1 << (j & 7))) == 0) Vectors.Set(bits, i);
        }
        return Vectors.Boolean(bits, Vectors.Validity(input), n);
    }
}
