using Apache.Arrow;
using DataPlane.Iceberg.Catalogs;
using DataPlane.SqlTransforms.Diagnostics;

namespace DataPlane.Pipelines.Lookups;

/// <summary>
/// Finds the tables a pipeline's lookup joins name: <c>db.&lt;database&gt;.&lt;table&gt;</c> in the host's databases
/// (<see cref="IDatabaseReader"/>), any other qualified name in the catalog. Resolving one checks it exists (404) and
/// fits <see cref="PipelinesOptions.MaxLookupTableBytes"/> (400), and answers its columns to compile against.
/// </summary>
internal sealed class LookupSources(ICatalog catalog, PipelinesOptions options, IDatabaseReader? database = null)
{
    /// <summary>The lookup tables <paramref name="sql"/> names, each with its schema (none: the SQL looks nothing up).</summary>
    public async Task<IReadOnlyList<(ILookupSource Source, Schema Schema)>> ResolveAsync(string sql, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> names;
        try
        {
            names = SqlTransforms.SqlProgram.LookupNames(sql);
        }
        catch (SqlException)
        {
            return []; // compiling reports it, with its line and column
        }
        var tables = new List<(ILookupSource, Schema)>();
        foreach (var name in names)
        {
            var source = Create(name);
            tables.Add((source, await source.SchemaAsync(cancellationToken)));
        }
        return tables;
    }

    /// <summary>A run's tables: loaded as it starts, checked before batches at the configured interval.</summary>
    public LookupTables Open(IReadOnlyList<(ILookupSource Source, Schema Schema)> tables) =>
        new(tables, TimeSpan.FromSeconds(options.LookupRefreshSeconds), TimeSpan.FromSeconds(options.LookupWaitSeconds));

    private ILookupSource Create(string name)
    {
        if (SqlTransforms.SqlProgram.IsDatabaseTable(name))
        {
            var parts = name.Split('.');
            return new DatabaseLookupSource(database ?? throw new ArgumentException($"Table '{name}' is a database's table, and this process holds no databases (JOIN {name})."),
                parts[1], parts[2], options.MaxLookupTableBytes);
        }
        return new IcebergLookupSource(catalog, TableIdentifier.Parse(name), options.MaxLookupTableBytes);
    }
}
