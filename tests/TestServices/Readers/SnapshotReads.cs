using System.Globalization;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Operations;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.TestServices.Readers;

/// <summary>
/// Reads the snapshots a table's metadata holds (current, older, branches, tags) as outside engines do: DuckDB over each
/// snapshot's data files with its position deletes applied (files of an S3 warehouse are fetched to a local folder
/// first: DuckDB's S3 support is not built in here), and icebird from the metadata file over HTTP. A missing or
/// unreadable file fails the read.
/// </summary>
/// <param name="scratch">A folder for files fetched from S3.</param>
/// <param name="s3Endpoint">Where icebird reads an S3 warehouse's objects (path-style).</param>
/// <param name="files">For a local warehouse: an HTTP server of the warehouse folder, from which icebird reads.</param>
public sealed class SnapshotReads(Table table, string scratch, Uri? s3Endpoint = null, HttpFileServer? files = null)
{
    private readonly Dictionary<string, string> _fetched = new(StringComparer.Ordinal);

    /// <summary>
    /// Reads every snapshot in the metadata with DuckDB, and <paramref name="icebirdSnapshots"/> (all when null) with
    /// icebird too, asserting the readers agree; returns each snapshot's ids (sorted, duplicates kept) by snapshot id.
    /// </summary>
    public async Task<Dictionary<long, List<long>>> EverySnapshotAsync(IReadOnlyCollection<long>? icebirdSnapshots = null)
    {
        await table.RefreshAsync();
        var ids = table.Metadata.Snapshots.Select(s => s.SnapshotId).ToList();
        var icebird = await IcebirdIdsAsync(icebirdSnapshots ?? ids);
        var result = new Dictionary<long, List<long>>();
        foreach (var id in ids)
        {
            var duck = await DuckDbIdsAsync(id);
            result[id] = duck;
            if (!icebird.TryGetValue(id, out var read))
                continue;
            var (rows, error) = read;
            // icebird refuses a snapshot without data files rather than reading zero rows
            Assert.True(rows is not null || duck.Count == 0 && error!.Contains("No data manifest files found", StringComparison.Ordinal),
                $"icebird cannot read snapshot {id}: {error}");
            Assert.True(duck.SequenceEqual(rows ?? []), $"snapshot {id}: DuckDB reads {duck.Count} rows, icebird {rows?.Count}");
        }
        return result;
    }

    /// <summary>The ids of the table's current snapshot (loaded again first) as DuckDB reads them, sorted; none before its first snapshot.</summary>
    public async Task<List<long>> CurrentDuckDbIdsAsync()
    {
        await table.RefreshAsync();
        return table.Metadata.CurrentSnapshotId is { } current ? await DuckDbIdsAsync(current) : [];
    }

    /// <summary>The ids of one snapshot as DuckDB reads its files (every column of every row is read), sorted.</summary>
    public async Task<List<long>> DuckDbIdsAsync(long snapshotId)
    {
        var tasks = await table.NewScan().UseSnapshot(snapshotId).PlanFilesAsync();
        var data = tasks.Select(t => t.File).ToList();
        var deletes = tasks.SelectMany(t => t.DeleteFiles).DistinctBy(f => f.FilePath).ToList();
        if (deletes.FirstOrDefault(d => d.Content != FileContent.PositionDeletes) is { } equality)
            throw new NotSupportedException($"{equality.FilePath}: only position deletes are applied here.");
        if (data.Count == 0)
            return [];

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        Execute(duck, "CREATE TABLE located(local VARCHAR, location VARCHAR)");
        foreach (var f in data)
            Execute(duck, $"INSERT INTO located VALUES ({Quote(await LocalAsync(f.FilePath))}, {Quote(f.FilePath)})");
        Execute(duck, deletes.Count == 0
            ? "CREATE TABLE pd(file_path VARCHAR, pos BIGINT)"
            : $"CREATE TABLE pd AS SELECT file_path, pos FROM read_parquet([{string.Join(", ", await Task.WhenAll(deletes.Select(async d => Quote(await LocalAsync(d.FilePath)))))}])");
        var paths = string.Join(", ", (await Task.WhenAll(data.Select(async f => Quote(await LocalAsync(f.FilePath))))));
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"""
            SELECT d.* EXCLUDE (filename, file_row_number)
            FROM read_parquet([{paths}], filename = true, file_row_number = true) d
            JOIN located l ON l.local = d.filename
            ANTI JOIN pd ON pd.file_path = l.location AND pd.pos = d.file_row_number
            """;
        using var reader = cmd.ExecuteReader();
        int idColumn = reader.GetOrdinal("id");
        var ids = new List<long>();
        while (reader.Read())
        {
            for (int c = 0; c < reader.FieldCount; c++)
                _ = reader.GetValue(c);
            ids.Add(reader.GetInt64(idColumn));
        }
        ids.Sort();
        return ids;
    }

    /// <summary>The ids of the snapshots as icebird reads them (sorted), or its error, from the table's current metadata file.</summary>
    public async Task<Dictionary<long, (List<long>? Ids, string? Error)>> IcebirdIdsAsync(IReadOnlyCollection<long> snapshotIds)
    {
        var metadataLocation = table.State.MetadataLocation;
        var read = await Icebird.ReadSnapshotsAsync(table.Metadata.Location, metadataLocation[(metadataLocation.LastIndexOf('/') + 1)..], snapshotIds,
            s3Endpoint, files is null ? null : table.Store.Location.ToString(), files?.BaseUri);
        return read.ToDictionary(r => r.Key, r => (r.Value.Rows?.Select(Id).Order().ToList(), r.Value.Error));
    }

    private static long Id(System.Text.Json.JsonElement row) => long.Parse(row.GetProperty("id").GetString()!, CultureInfo.InvariantCulture);

    /// <summary>Keys of files under the table's <c>data/</c> that no snapshot in the metadata (as last loaded) names.</summary>
    public async Task<List<string>> UnreferencedDataFilesAsync()
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var snapshot in table.Metadata.Snapshots)
            foreach (var task in await table.NewScan().UseSnapshot(snapshot.SnapshotId).PlanFilesAsync())
            {
                referenced.Add(table.KeyOf(task.File.FilePath));
                foreach (var d in task.DeleteFiles)
                    referenced.Add(table.KeyOf(d.FilePath));
            }
        var unreferenced = new List<string>();
        await foreach (var info in table.Store.ListAsync(table.TableKey + "/data/"))
            if (!referenced.Contains(info.Key))
                unreferenced.Add(info.Key);
        return unreferenced;
    }

    private async Task<string> LocalAsync(string location)
    {
        if (location.StartsWith("file:", StringComparison.Ordinal))
            return new Uri(location).LocalPath;
        if (_fetched.TryGetValue(location, out var local))
            return local;
        local = Path.Combine(scratch, Guid.NewGuid().ToString("N") + ".parquet");
        Directory.CreateDirectory(scratch);
        await using (var body = await table.Store.GetAsync(table.KeyOf(location)))
        await using (var file = File.Create(local))
            await body.CopyToAsync(file);
        _fetched[location] = local;
        return local;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Execute(DuckDBConnection duck, string sql)
    {
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
