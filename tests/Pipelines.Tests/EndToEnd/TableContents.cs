using DataPlane.Catalog.Operations;
using DataPlane.Storage;
using DuckDB.NET.Data;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>What an Iceberg table in the local warehouse holds: its live data files (read by DuckDB) and snapshot summaries.</summary>
internal static class TableContents
{
    public static async Task<Table> LoadAsync(string warehouse, string tableKey)
    {
        var store = ObjectStore.Open(warehouse);
        return await Table.LoadAsync(store, new FileTableCommitter(store, tableKey));
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
}
