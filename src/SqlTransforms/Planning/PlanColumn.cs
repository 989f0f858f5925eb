using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>An output column of a plan node: its name (for binding and the output schema), type and whether it may be NULL.</summary>
internal sealed record PlanColumn(string Name, SqlType Type, bool Nullable, string? Qualifier = null);
