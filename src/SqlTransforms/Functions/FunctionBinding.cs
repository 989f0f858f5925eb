using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>Builds the kernel of a bound call from its arguments' kernels.</summary>
internal delegate Kernel KernelFactory(IReadOnlyList<Kernel> arguments, SqlType returns);

/// <summary>
/// A call resolved to one implementation: the types its arguments are converted to, what it returns, and how to
/// build its kernel. <see cref="PropagatesNull"/>: NULL if any argument is NULL (most functions).
/// </summary>
internal sealed record FunctionBinding(IReadOnlyList<SqlType> Parameters, SqlType Returns, KernelFactory Compile, bool PropagatesNull = true);
