using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>The columns a name can refer to: a plan's output columns, each with the alias of the table it came from.</summary>
internal sealed class Scope(IReadOnlyList<PlanColumn> columns)
{
    public IReadOnlyList<PlanColumn> Columns { get; } = columns;

    public static readonly Scope Empty = new([]);
}
