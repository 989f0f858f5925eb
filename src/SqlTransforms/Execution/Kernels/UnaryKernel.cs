using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>Applies <typeparamref name="TOp"/> to every non-NULL value of a fixed-width column; NULL in, NULL out.</summary>
internal sealed class UnaryKernel<TIn, TOut, TOp>(Kernel operand, SqlType type, TOp operation = default) : Kernel(type)
    where TIn : unmanaged where TOut : unmanaged where TOp : struct, IUnaryOperation<TIn, TOut>
{
    private TOp _operation = operation; // not readonly: an operation may remember why its last row failed

    public override IArrowArray Evaluate(EvalContext context)
    {
        var input = operand.Evaluate(context);
        int n = context.Length;
        var values = Vectors.Values<TIn>(input);
        var validity = Vectors.Validity(input);
        var bytes = Vectors.Allocate<TOut>(n, out var output);
        for (int i = 0; i < n; i++)
        {
            if (!_operation.Apply(values[i], out output[i]) && Vectors.Get(validity, i))
            {
                validity ??= Vectors.AllValid(n);
                Vectors.Clear(validity, i);
                if (context.Fail(i, _operation.Reason)) context.Errors.AddSample(i, _operation.Describe(values[i]));
            }
        }
        return Vectors.Fixed(Type, bytes, validity, n);
    }
}
