using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>
/// One signature of a function: fixed parameter types (and optionally any number of <see cref="Variadic"/> ones
/// after them), the return type and the kernel factory.
/// </summary>
internal sealed record Overload(IReadOnlyList<SqlType> Parameters, SqlType Returns, KernelFactory Compile, SqlType? Variadic = null, bool PropagatesNull = true)
{
    public override string ToString() =>
        "(" + string.Join(", ", Parameters.Select(p => p.ToString()).Concat(Variadic is null ? [] : [Variadic + "..."])) + ") -> " + Returns;
}
