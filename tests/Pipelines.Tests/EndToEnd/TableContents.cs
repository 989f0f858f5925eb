using System.Globalization;
using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;
using DuckDB.NET.Data;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>What an Iceberg table of the server's catalog holds: its live data files (read by DuckDB) and snapshot summaries.</summary>
internal static class TableContents
{
    /// <summary>The table as the catalog files under <c>&lt;data&gt;</c> say, the ones <c>dataplane serve</c> uses (no server needed).</summary>
    public static async Task<Table> LoadAsync(string dataDirectory, string table)
    {
        using var catalog = new IcebergCatalog(new RestCatalogOptions
        {
            WarehouseLocation = Path.Combine(dataDirectory, "warehouse"),
            DatabasePath = Path.Combine(dataDirectory, "catalog", "catalog.db"),
        });
        return await catalog.LoadTableAsync(TableIdentifier.Parse(table));
    }

    /// <summary>The table as a running server's Iceberg REST catalog returns it; its files are read from the returned locations.</summary>
    public static async Task<Table> LoadThroughRestAsync(Uri server, string table)
    {
        using var client = new IcebergRestClient(new Uri(server, "iceberg"));
        await client.InitializeAsync();
        var id = TableIdentifier.Parse(table);
        var committer = new RestTableCommitter(client, id.Namespace, id.Name);
        var state = await committer.LoadAsync() ?? throw new InvalidOperationException($"The catalog has no table {table}.");
        var root = new Uri(state.Metadata.Location).LocalPath;
        return await Table.LoadAsync(ObjectStore.Open(root), committer);
    }

    /// <summary>The table through a running server's Iceberg REST catalog, for committing to it (another writer, e.g.
    /// compaction) as long as the returned client is not disposed; its files in <paramref name="warehouse"/>, the server's.</summary>
    public static async Task<(IDisposable Client, Table Table)> WriterThroughRestAsync(Uri server, string table, IObjectStore warehouse)
    {
        var client = new IcebergRestClient(new Uri(server, "iceberg"));
        try
        {
            await client.InitializeAsync();
            var id = TableIdentifier.Parse(table);
            var committer = new RestTableCommitter(client, id.Namespace, id.Name);
            var state = await committer.LoadAsync() ?? throw new InvalidOperationException($"The catalog has no table {table}.");
            return (client, await Table.LoadAsync(warehouse, committer));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public static async Task<IReadOnlyList<string>> LiveFilesAsync(Table table) =>
        table.Metadata.CurrentSnapshotId is null ? [] : (await table.NewScan().PlanFilesAsync()).Select(t => new Uri(t.File.FilePath).LocalPath).ToList();

    /// <summary>Runs a query over <c>rows</c>, a view of the files; the first column of each result row.</summary>
    public static List<long> Query(IReadOnlyList<string> files, string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using (var view = duck.CreateCommand())
        {
            view.CommandText = files.Count == 0
                ? "CREATE VIEW rows AS SELECT 0::BIGINT AS id WHERE false"
                : $"CREATE VIEW rows AS SELECT * FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
            view.ExecuteNonQuery();
        }
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var values = new List<long>();
        while (reader.Read())
            values.Add(reader.IsDBNull(0) ? 0 : Convert.ToInt64(reader.GetValue(0)));
        return values;
    }

    /// <summary>Every result row of a DuckDB query, its columns joined by '|' (NULL for nulls), in ordinal order.</summary>
    public static List<string> Rows(string sql)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        return Sorted(rows);
    }

    /// <summary>Rows in the order <see cref="Rows"/> returns them, to compare with.</summary>
    public static List<string> Sorted(IEnumerable<string> rows)
    {
        var list = rows.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
