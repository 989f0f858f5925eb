using DataPlane.SqlTransforms.Binding;
using DataPlane.SqlTransforms.Syntax;

namespace DataPlane.SqlTransforms.Planning;

/// <summary>
/// What a LookupJoin node matches: each stream row against the rows of <see cref="Table"/> (a catalog's Iceberg table,
/// or <c>db.name.table</c>) whose <see cref="TableKeys"/> (over the table's <see cref="TableColumns"/>) equal its
/// <see cref="StreamKeys"/> (over the input's columns), both of one flat type; a NULL key matches nothing. INNER or
/// LEFT: the table only enriches the stream, so its rows never appear alone.
/// </summary>
internal sealed record LookupSpec(string Table, JoinKind Kind, IReadOnlyList<BoundExpression> StreamKeys, IReadOnlyList<BoundExpression> TableKeys,
    IReadOnlyList<PlanColumn> TableColumns)
{
    /// <summary>Where the table comes from, for EXPLAIN: the DataPlane database or the Iceberg catalog.</summary>
    public string Source => IsDatabase(Table) ? "database" : "iceberg";

    /// <summary><c>db.&lt;name&gt;.&lt;table&gt;</c> names a DataPlane database's table; any other qualified name a catalog's table.</summary>
    public static bool IsDatabase(string qualifiedName) =>
        qualifiedName.StartsWith("db.", StringComparison.Ordinal) && qualifiedName.Count(c => c == '.') == 2;
}
