using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.Operations;
using DataPlane.TestServices.Readers;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// A snapshot of a local table read as an Iceberg v2 merge-on-read reader must, without the table library's scan
/// planning: the live entries of the snapshot's manifests (read from the manifest list and manifests as written, with
/// their inherited data sequence numbers, by python3-avro), the data files read by DuckDB, minus the rows an equality delete file names on
/// the columns of its <c>equality_ids</c> (NULL matching NULL) when its data sequence number is greater than the data
/// file's (the spec's rule: a delete applies to older data only). Each delete file's Parquet columns must carry the field
/// ids its manifest entry names.
/// </summary>
internal static class EqualityDeleteReads
{
    /// <summary>The rows of <paramref name="select"/> over the snapshot's live rows (every column of the table's current
    /// schema, as <c>rows</c>), sorted as <see cref="TableContents.Rows"/> sorts them.</summary>
    public static async Task<List<string>> RowsAsync(Table table, long snapshotId, string select)
    {
        var snapshot = table.Metadata.Snapshot(snapshotId) ?? throw new ArgumentException($"no snapshot {snapshotId}");
        var data = new List<(string Path, long Sequence)>();
        var deletes = new List<(string Path, long Sequence, IReadOnlyList<int> Ids)>();
        // The manifest list and manifests as python3-avro reads them, not as the table library does.
        var manifests = (await AvroReaders.PythonAsync([Local(snapshot.ManifestList!)])).Single().Value;
        foreach (var manifest in manifests)
        {
            bool deleteManifest = manifest.GetProperty("content").GetInt32() == 1;
            long manifestSequence = manifest.GetProperty("sequence_number").GetInt64();
            var path = Local(manifest.GetProperty("manifest_path").GetString()!);
            foreach (var entry in (await AvroReaders.PythonAsync([path])).Single().Value)
            {
                if (entry.GetProperty("status").GetInt32() == 2)
                    continue; // deleted
                var file = entry.GetProperty("data_file");
                // A null data sequence number is inherited from the manifest's (an ADDED entry of the snapshot that wrote it).
                long sequence = entry.GetProperty("sequence_number") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : manifestSequence;
                string location = Local(file.GetProperty("file_path").GetString()!);
                switch (file.GetProperty("content").GetInt32())
                {
                    case 0:
                        Assert.False(deleteManifest, $"{location} is a data file in a delete manifest");
                        data.Add((location, sequence));
                        break;
                    case 2:
                        Assert.True(deleteManifest, $"{location} is an equality delete file in a data manifest");
                        var ids = file.GetProperty("equality_ids") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Select(i => i.GetInt32()).ToList() : [];
                        Assert.NotEmpty(ids);
                        deletes.Add((location, sequence, ids));
                        break;
                    default:
                        throw new NotSupportedException($"{location}: only equality deletes are applied here");
                }
            }
        }
        var schema = table.Metadata.CurrentSchema;
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        Execute(duck, "CREATE TABLE data_files(path VARCHAR, seq BIGINT)");
        foreach (var (path, sequence) in data)
            Execute(duck, $"INSERT INTO data_files VALUES ({Quote(path)}, {sequence})");
        string columns = string.Join(", ", schema.Columns.Select(c => Ident(c.Name)));
        string rows = data.Count == 0
            ? $"(SELECT * FROM (SELECT {string.Join(", ", schema.Columns.Select(c => "NULL AS " + Ident(c.Name)))}) WHERE false)"
            : $"(SELECT {columns}, f.seq AS __seq FROM read_parquet([{string.Join(", ", data.Select(d => Quote(d.Path)))}], filename = true, union_by_name = true) d JOIN data_files f ON f.path = d.filename)";
        var conditions = new List<string>();
        foreach (var group in deletes.GroupBy(d => string.Join(",", d.Ids)))
        {
            var ids = group.First().Ids;
            var names = ids.Select(id => schema.FindColumnName(id) ?? throw new InvalidDataException($"equality id {id} is not a column")).ToList();
            foreach (var (path, _, _) in group)
            {
                // The delete file's columns are the equality fields, by field id.
                var fieldIds = Query(duck, $"SELECT name, field_id FROM parquet_schema({Quote(path)}) WHERE field_id IS NOT NULL")
                    .ToDictionary(r => r[0], r => int.Parse(r[1], CultureInfo.InvariantCulture));
                for (int i = 0; i < ids.Count; i++)
                    Assert.True(fieldIds.TryGetValue(names[i], out int id) && id == ids[i], $"{path}: column {names[i]} should carry field id {ids[i]}");
            }
            string name = "deletes_" + conditions.Count;
            Execute(duck, $"CREATE TABLE {name}_files(path VARCHAR, seq BIGINT)");
            foreach (var (path, sequence, _) in group)
                Execute(duck, $"INSERT INTO {name}_files VALUES ({Quote(path)}, {sequence})");
            Execute(duck, $"CREATE TABLE {name} AS SELECT {string.Join(", ", names.Select(Ident))}, f.seq AS __seq FROM read_parquet([{string.Join(", ", group.Select(g => Quote(g.Path)))}], filename = true) x JOIN {name}_files f ON f.path = x.filename");
            conditions.Add($"NOT EXISTS (SELECT 1 FROM {name} e WHERE e.__seq > r.__seq AND {string.Join(" AND ", names.Select(n => $"e.{Ident(n)} IS NOT DISTINCT FROM r.{Ident(n)}"))})");
        }
        Execute(duck, $"CREATE VIEW rows AS SELECT {string.Join(", ", schema.Columns.Select(c => "r." + Ident(c.Name)))} FROM {rows} r{(conditions.Count > 0 ? " WHERE " + string.Join(" AND ", conditions) : "")}");
        return TableContents.Sorted(Query(duck, select).Select(r => string.Join("|", r)));
    }

    /// <summary>The current snapshot's rows as icebird reads them, the table's local files served to it by <paramref name="files"/>
    /// (an <see cref="HttpFileServer"/> of the warehouse folder): each row's <paramref name="columns"/> as text, joined by '|'.</summary>
    public static async Task<List<string>> IcebirdAsync(Table table, HttpFileServer files, params string[] columns)
    {
        var metadata = table.State.MetadataLocation;
        long current = table.Metadata.CurrentSnapshotId!.Value;
        var read = await Icebird.ReadSnapshotsAsync(table.Metadata.Location, metadata[(metadata.LastIndexOf('/') + 1)..], [current], null, table.Store.Location.ToString(), files.BaseUri);
        var (rows, error) = read[current];
        Assert.True(rows is not null, $"icebird cannot read snapshot {current}: {error}");
        // icebird gives longs as strings, doubles as numbers: a double column in millionths.
        var doubles = table.Schema.Columns.Where(c => c.Type.TypeId == DataPlane.Iceberg.Types.TypeId.Double).Select(c => c.Name).ToHashSet();
        string Text(string column, JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.Null => "NULL",
            JsonValueKind.Number when doubles.Contains(column) => ((long)Math.Round(v.GetDouble() * 1_000_000, MidpointRounding.AwayFromZero)).ToString(CultureInfo.InvariantCulture),
            JsonValueKind.String => v.GetString()!,
            _ => v.GetRawText(),
        };
        return TableContents.Sorted(rows!.Select(r => string.Join("|", columns.Select(c => Text(c, r.GetProperty(c))))));
    }

    private static string Local(string location) => location.StartsWith('/') ? location : new Uri(location).LocalPath;

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Ident(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static void Execute(DuckDBConnection duck, string sql)
    {
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static List<string[]> Query(DuckDBConnection duck, string sql)
    {
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)!)]);
        return rows;
    }
}
