using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>An input column, by position: no copy.</summary>
internal sealed class ColumnKernel(int index, SqlType type) : Kernel(type)
{
    public int Index { get; } = index;

    public override IArrowArray Evaluate(EvalContext context) => context.Columns[Index];
}
