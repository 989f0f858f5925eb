using DataPlane.SqlTransforms.Diagnostics;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;

namespace DataPlane.SqlTransforms.Binding;

/// <summary>
/// Lookup joins: a qualified name in FROM (<c>namespace.table</c>, <c>db.name.table</c>) is a table, not a stream. It
/// stands on the right of an INNER or LEFT JOIN whose ON condition is equalities between the stream's expressions and
/// the table's (AND-ed): each stream row is matched against the table's current rows by those keys, so nothing of the
/// stream is kept and no time bound is needed.
/// </summary>
internal sealed partial class Binder
{
    /// <summary>The lookup tables' columns by qualified name (the host loads their schemas before compiling).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<PlanColumn>> LookupTables { get; init; } = new Dictionary<string, IReadOnlyList<PlanColumn>>();

    private SqlException LookupOutsideJoin(TableReference.Named n) =>
        Error(n.Start, $"{n.QualifiedName} is a table, read by a lookup join only: FROM <stream> s [LEFT] JOIN {n.QualifiedName} t ON s.key = t.key");

    private LogicalPlan BindLookupJoin(JoinedTables j, TableReference.Named table)
    {
        string name = table.QualifiedName;
        if (j.Kind is JoinKind.Right or JoinKind.Full || j.On is null)
            throw Error(j.Start, $"a lookup join of {name} is INNER or LEFT JOIN ... ON <stream key> = <table key>: the table enriches the stream's rows, its own rows never appear alone");
        if (!LookupTables.TryGetValue(name, out var tableColumns))
            throw Error(table.Start, $"there is no table named \"{name}\" to look up" + NearestNames.Suggest(name, LookupTables.Keys));
        var left = BindFrom(j.Left);
        string alias = (table.Alias ?? table.Name).Text;
        if (left.Columns.Any(c => c.Qualifier is { } q && q.Equals(alias, StringComparison.OrdinalIgnoreCase)))
            throw Error(table.Start, $"both sides of the join are called \"{alias}\"; give the table an alias ({name} AS t)");
        var right = tableColumns.Select(c => c with { Qualifier = alias }).ToList();
        int width = left.Columns.Count;
        var scope = new Scope([.. left.Columns, .. right]);
        var streamKeys = new List<BoundExpression>();
        var tableKeys = new List<BoundExpression>();
        foreach (var term in Conjuncts(j.On))
        {
            BindCondition(term, scope, "ON"); // names and types first: a missing column is reported as such
            if (term is not SqlExpression.Binary { Operator: "=" } equal || EqualityKey(equal, scope, width) is not { } key)
                throw Error(term.Start, $"a lookup join of {name} matches on equalities only (<stream expression> = {alias}.<column>, AND-ed), "
                    + $"which find the table's rows by key; \"{_sql[term.Start..Math.Min(term.End, _sql.Length)].Trim()}\" is not one: filter the stream in WHERE or in a subquery");
            streamKeys.Add(key.Left);
            tableKeys.Add(key.Right);
        }
        bool nullable = j.Kind == JoinKind.Left;
        var columns = left.Columns.Concat(right.Select(c => nullable ? c with { Nullable = true } : c)).ToList();
        return new LogicalPlan.LookupJoin(left, new LookupSpec(name, j.Kind, streamKeys, tableKeys, right), columns);
    }
}
