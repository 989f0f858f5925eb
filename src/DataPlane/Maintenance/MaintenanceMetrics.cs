using System.Collections.Concurrent;
using System.Globalization;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Maintenance;

/// <summary>
/// Each table's figures as the scheduler last saw them (data and delete files, average data file size, snapshots, the
/// current metadata file's size), the last run of each job and the runs, bytes read and written since the server
/// started, in the Prometheus text format (a section of <c>/metrics</c>).
/// </summary>
internal sealed class MaintenanceMetrics(MaintenanceHistory history)
{
    private sealed record TableFigures(long DataFiles, long DeleteFiles, long AverageFileBytes, int Snapshots, long MetadataFileBytes);

    private readonly ConcurrentDictionary<string, TableFigures> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Table, string Job, string Outcome), long> _runs = new();
    private readonly ConcurrentDictionary<(string Table, string Job), long> _read = new();
    private readonly ConcurrentDictionary<(string Table, string Job), long> _written = new();

    public async Task ObserveAsync(string name, Table table, CancellationToken ct)
    {
        var summary = table.Metadata.CurrentSnapshot?.Summary;
        long Total(string key) => summary?.TryGetValue(key, out var v) == true && long.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0;
        long metadataBytes = 0;
        try
        {
            metadataBytes = (await table.Store.HeadAsync(table.KeyOf(table.State.MetadataLocation), ct))?.Size ?? 0;
        }
        catch (ArgumentException)
        {
            // A metadata file outside the warehouse: not ours to look at.
        }
        var files = Total("total-data-files");
        _tables[name] = new TableFigures(files, Total("total-delete-files"), files == 0 ? 0 : Total("total-files-size") / files, table.Metadata.Snapshots.Count, metadataBytes);
    }

    /// <summary>Drops the figures of tables no longer in the catalog.</summary>
    public void Forget(IReadOnlySet<string> tables)
    {
        foreach (var name in _tables.Keys)
            if (!tables.Contains(name)) _tables.TryRemove(name, out _);
    }

    public void Count(MaintenanceRun run)
    {
        var job = run.Request.Job.Name();
        var o = run.Outcome!;
        _runs.AddOrUpdate((run.Table, job, o.Outcome), 1, (_, n) => n + 1);
        _read.AddOrUpdate((run.Table, job), o.BytesRead, (_, n) => n + o.BytesRead);
        _written.AddOrUpdate((run.Table, job), o.BytesWritten, (_, n) => n + o.BytesWritten);
    }

    public async Task WriteAsync(TextWriter text)
    {
        var tables = _tables.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        await Family(text, "dataplane_table_data_files", "gauge", "Live data files of the table's current snapshot.",
            tables.Select(t => (Labels(("table", t.Key)), (double)t.Value.DataFiles)));
        await Family(text, "dataplane_table_delete_files", "gauge", "Live delete files of the table's current snapshot.",
            tables.Select(t => (Labels(("table", t.Key)), (double)t.Value.DeleteFiles)));
        await Family(text, "dataplane_table_average_file_bytes", "gauge", "Average size of the current snapshot's data files.",
            tables.Select(t => (Labels(("table", t.Key)), (double)t.Value.AverageFileBytes)));
        await Family(text, "dataplane_table_snapshots", "gauge", "Snapshots in the table's metadata.",
            tables.Select(t => (Labels(("table", t.Key)), (double)t.Value.Snapshots)));
        await Family(text, "dataplane_table_metadata_file_bytes", "gauge", "Size of the table's current metadata file.",
            tables.Select(t => (Labels(("table", t.Key)), (double)t.Value.MetadataFileBytes)));
        await Family(text, "dataplane_table_maintenance_last_run_timestamp_seconds", "gauge", "When each maintenance job last finished on the table, by its outcome.",
            history.Latest().OrderBy(r => r.Table, StringComparer.Ordinal).ThenBy(r => r.Request.Job)
                .Select(r => (Labels(("table", r.Table), ("job", r.Request.Job.Name()), ("outcome", r.Outcome!.Outcome)), r.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0)));
        await Family(text, "dataplane_table_maintenance_runs_total", "counter", "Maintenance runs finished since the server started, by job and outcome.",
            _runs.OrderBy(r => r.Key).Select(r => (Labels(("table", r.Key.Table), ("job", r.Key.Job), ("outcome", r.Key.Outcome)), (double)r.Value)));
        await Family(text, "dataplane_table_maintenance_read_bytes_total", "counter", "Bytes maintenance jobs read since the server started.",
            _read.OrderBy(r => r.Key).Select(r => (Labels(("table", r.Key.Table), ("job", r.Key.Job)), (double)r.Value)));
        await Family(text, "dataplane_table_maintenance_written_bytes_total", "counter", "Bytes maintenance jobs wrote since the server started.",
            _written.OrderBy(r => r.Key).Select(r => (Labels(("table", r.Key.Table), ("job", r.Key.Job)), (double)r.Value)));
    }

    private static async Task Family(TextWriter text, string name, string type, string help, IEnumerable<(string Labels, double Value)> series)
    {
        await text.WriteAsync($"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var (labels, value) in series)
            await text.WriteAsync($"{name}{{{labels}}} {value.ToString(CultureInfo.InvariantCulture)}\n");
    }

    private static string Labels(params (string Name, string Value)[] labels) =>
        string.Join(",", labels.Select(l => $"{l.Name}=\"{l.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\""));
}
