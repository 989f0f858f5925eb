using System.Text.Json;
using DataPlane.Iceberg.Maintenance;

namespace DataPlane.Maintenance;

/// <summary>
/// One run of a job on a table, queued by the scheduler or by hand: its state (<c>queued</c>, <c>running</c>,
/// <c>finished</c>), its progress while it runs, and what it did once finished. The run history is made of these.
/// </summary>
internal sealed class MaintenanceRun(string id, string table, JobRequest request, string trigger, DateTimeOffset queuedAt)
{
    private readonly object _gate = new();
    private MaintenanceProgress? _progress;

    public string Id => id;
    /// <summary>The table as <c>namespace.name</c>.</summary>
    public string Table => table;
    public JobRequest Request => request;
    /// <summary><c>schedule</c> or <c>manual</c>.</summary>
    public string Trigger => trigger;
    public DateTimeOffset QueuedAt => queuedAt;
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? FinishedAt { get; private set; }
    public JobOutcome? Outcome { get; private set; }
    public string State => Outcome is not null ? "finished" : StartedAt is not null ? "running" : "queued";
    public MaintenanceProgress? Progress { get { lock (_gate) return _progress; } }

    /// <summary>Completes when the run has finished.</summary>
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IProgress<MaintenanceProgress> Reporter => new Inline(this);

    public void Start(DateTimeOffset at) => StartedAt = at;

    public void Finish(JobOutcome outcome, DateTimeOffset at)
    {
        FinishedAt = at;
        Outcome = outcome;
        Done.TrySetResult();
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("table", Table);
        w.WriteString("job", Request.Job.Name());
        w.WriteString("trigger", Trigger);
        w.WriteBoolean("dry_run", Request.DryRun);
        w.WriteString("state", State);
        w.WriteString("queued_at", QueuedAt);
        if (StartedAt is { } started) w.WriteString("started_at", started);
        if (FinishedAt is { } finished) w.WriteString("finished_at", finished);
        if (Outcome is null && Progress is { } p)
        {
            w.WriteStartObject("progress");
            w.WriteString("phase", p.Phase);
            w.WriteNumber("done", p.Done);
            w.WriteNumber("total", p.Total);
            w.WriteEndObject();
        }
        if (Outcome is { } o)
        {
            w.WriteString("outcome", o.Outcome);
            w.WriteString("summary", o.Summary);
            w.WriteNumber("bytes_read", o.BytesRead);
            w.WriteNumber("bytes_written", o.BytesWritten);
            w.WriteNumber("files_written", o.FilesWritten);
            w.WriteNumber("files_deleted", o.FilesDeleted);
            w.WriteStartArray("snapshots");
            foreach (var s in o.Snapshots) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteStartObject("details");
            foreach (var (k, v) in o.Details) w.WriteNumber(k, v);
            w.WriteEndObject();
            if (o.Files.Count > 0)
            {
                w.WriteStartArray("files");
                foreach (var f in o.Files) w.WriteStringValue(f);
                w.WriteEndArray();
            }
        }
        w.WriteEndObject();
    }

    /// <summary>A finished run as the history file keeps it (the same shape as the API's).</summary>
    public static MaintenanceRun Read(JsonElement e)
    {
        var request = new JobRequest(MaintenanceJobs.Parse(e.GetProperty("job").GetString()!)) { DryRun = e.GetProperty("dry_run").GetBoolean() };
        var run = new MaintenanceRun(e.GetProperty("id").GetString()!, e.GetProperty("table").GetString()!, request, e.GetProperty("trigger").GetString()!,
            e.GetProperty("queued_at").GetDateTimeOffset());
        if (e.TryGetProperty("started_at", out var started)) run.StartedAt = started.GetDateTimeOffset();
        var details = e.GetProperty("details").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        var outcome = new JobOutcome(e.GetProperty("outcome").GetString()!, e.GetProperty("summary").GetString()!, e.GetProperty("bytes_read").GetInt64(),
            e.GetProperty("bytes_written").GetInt64(), e.GetProperty("files_written").GetInt64(), e.GetProperty("files_deleted").GetInt64(),
            e.GetProperty("snapshots").EnumerateArray().Select(s => s.GetInt64()).ToList(), details, []);
        run.Finish(outcome, e.GetProperty("finished_at").GetDateTimeOffset());
        return run;
    }

    private sealed class Inline(MaintenanceRun run) : IProgress<MaintenanceProgress>
    {
        public void Report(MaintenanceProgress value)
        {
            lock (run._gate) run._progress = value;
        }
    }
}
