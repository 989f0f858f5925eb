using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>A constant, materialised once per batch length and reused (Arrow arrays are immutable).</summary>
internal sealed class ConstantKernel(object? value, SqlType type) : Kernel(type)
{
    private IArrowArray? _cached;

    public object? Value { get; } = value;

    public override IArrowArray Evaluate(EvalContext context)
    {
        var cached = _cached;
        if (cached is not null && cached.Length == context.Length) return cached;
        return _cached = ValueArrays.Repeat(Value, Type, context.Length);
    }
}
