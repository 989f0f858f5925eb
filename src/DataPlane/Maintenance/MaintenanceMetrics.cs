using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Maintenance;

/// <summary>
/// Each table's figures as the scheduler last saw them (data and delete files, average data file size, snapshots, the
/// current metadata file's size), the last run of each job and the runs, bytes read and written since the server
/// started, on the <c>DataPlane.Maintenance</c> meter: observable instruments read these when <c>/metrics</c> is scraped.
/// </summary>
internal sealed class MaintenanceMetrics
{
    public const string MeterName = "DataPlane.Maintenance";

    private sealed record TableFigures(long DataFiles, long DeleteFiles, long AverageFileBytes, int Snapshots, long MetadataFileBytes);

    private readonly ConcurrentDictionary<string, TableFigures> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Table, string Job, string Outcome), long> _runs = new();
    private readonly ConcurrentDictionary<(string Table, string Job), long> _read = new();
    private readonly ConcurrentDictionary<(string Table, string Job), long> _written = new();

    /// <param name="meters">The host's factory; without one (unit tests) the meter is the process's, which no host exports.</param>
    public MaintenanceMetrics(MaintenanceHistory history, IMeterFactory? meters = null)
    {
        var meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        TableGauge(meter, "dataplane_table_data_files", "Live data files of the table's current snapshot.", t => t.DataFiles);
        TableGauge(meter, "dataplane_table_delete_files", "Live delete files of the table's current snapshot.", t => t.DeleteFiles);
        TableGauge(meter, "dataplane_table_average_file_bytes", "Average size of the current snapshot's data files.", t => t.AverageFileBytes);
        TableGauge(meter, "dataplane_table_snapshots", "Snapshots in the table's metadata.", t => t.Snapshots);
        TableGauge(meter, "dataplane_table_metadata_file_bytes", "Size of the table's current metadata file.", t => t.MetadataFileBytes);
        meter.CreateObservableGauge("dataplane_table_maintenance_last_run_timestamp_seconds", () => history.Latest().Select(r => new Measurement<double>(
                r.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, Tag("table", r.Table), Tag("job", r.Request.Job.Name()), Tag("outcome", r.Outcome!.Outcome))),
            description: "When each maintenance job last finished on the table with each outcome.");
        meter.CreateObservableCounter("dataplane_table_maintenance_runs_total",
            () => _runs.Select(r => new Measurement<long>(r.Value, Tag("table", r.Key.Table), Tag("job", r.Key.Job), Tag("outcome", r.Key.Outcome))),
            description: "Maintenance runs finished since the server started, by job and outcome.");
        meter.CreateObservableCounter("dataplane_table_maintenance_read_bytes_total",
            () => _read.Select(r => new Measurement<long>(r.Value, Tag("table", r.Key.Table), Tag("job", r.Key.Job))),
            description: "Bytes maintenance jobs read since the server started.");
        meter.CreateObservableCounter("dataplane_table_maintenance_written_bytes_total",
            () => _written.Select(r => new Measurement<long>(r.Value, Tag("table", r.Key.Table), Tag("job", r.Key.Job))),
            description: "Bytes maintenance jobs wrote since the server started.");
    }

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

    private void TableGauge(Meter meter, string name, string help, Func<TableFigures, long> value) =>
        meter.CreateObservableGauge(name, () => _tables.Select(t => new Measurement<long>(value(t.Value), Tag("table", t.Key))), description: help);

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
