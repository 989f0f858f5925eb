using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Kernels;

/// <summary>
/// A compiled expression: evaluates a whole batch column at a time into an Arrow array of <see cref="Type"/>.
/// Built once per query from a bound expression; holds no per-batch state except caches of constants.
/// A kernel never throws for a bad value: it marks the row failed through <see cref="EvalContext.Fail"/> and writes NULL.
/// </summary>
internal abstract class Kernel(SqlType type)
{
    public SqlType Type { get; } = type;

    public abstract IArrowArray Evaluate(EvalContext context);
}
