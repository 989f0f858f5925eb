using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// Applies <typeparamref name="TOp"/> row by row to two fixed-width columns; NULL if either side is NULL. The
/// operation runs on every row (NULL rows hold zeros), so it must be total: it reports failure, never throws.
/// </summary>
internal sealed class BinaryKernel<TLeft, TRight, TOut, TOp>(Kernel left, Kernel right, SqlType type, TOp operation = default) : Kernel(type)
    where TLeft : unmanaged where TRight : unmanaged where TOut : unmanaged where TOp : struct, IBinaryOperation<TLeft, TRight, TOut>
{
    private TOp _operation = operation; // not readonly: an operation may remember why its last row failed

    public override IArrowArray Evaluate(EvalContext context)
    {
        var l = left.Evaluate(context);
        var r = right.Evaluate(context);
        int n = context.Length;
        var a = Vectors.Values<TLeft>(l);
        var b = Vectors.Values<TRight>(r);
        var validity = Vectors.And(Vectors.Validity(l), Vectors.Validity(r));
        var bytes = Vectors.Allocate<TOut>(n, out var output);
        for (int i = 0; i < n; i++)
        {
            if (!_operation.Apply(a[i], b[i], out output[i]) && Vectors.Get(validity, i))
            {
                validity ??= Vectors.AllValid(n);
                Vectors.Clear(validity, i);
                if (context.Fail(i, _operation.Reason)) context.Errors.AddSample(i, _operation.Describe(a[i], b[i]));
            }
        }
        return Vectors.Fixed(Type, bytes, validity, n);
    }
}
