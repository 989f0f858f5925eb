using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.Catalog.Catalogs;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Maintenance;
using DataPlane.Pipelines.Runtime;
using DataPlane.Slurper;
using Spectre.Console;

namespace DataPlane.Commands;

/// <summary>
/// <c>dataplane table compact|expire-snapshots|remove-orphan-files|rewrite-manifests NAME</c>: one maintenance job by
/// hand, with a progress bar. On the embedded catalog (the data directory's) the job runs in this process, keeping the
/// files its pipelines' journals name; with <c>--server</c> the server runs it (queued with its own runs, so one job per
/// table at a time) and this follows its progress through <c>/api/v1/tables/.../maintenance</c>.
/// </summary>
internal static class TableMaintenanceCommand
{
    public static void AddTo(Command table)
    {
        table.Subcommands.Add(Create(MaintenanceJob.Compact,
            "Compact a table: bin-pack each partition's small files (and files with row-level deletes, which are applied) into files near the target size, as replace snapshots; " +
            "with --strategy sort, sort or z-order their rows first.",
            targetSize: true, minFiles: true, sort: true));
        table.Subcommands.Add(Create(MaintenanceJob.ExpireSnapshots,
            "Expire snapshots older than the table's history.expire.max-snapshot-age-ms (never the current one, a branch's or a tag's, nor a branch's newest min-snapshots-to-keep) and delete the files only they referenced.",
            olderThan: true, retainLast: true));
        table.Subcommands.Add(Create(MaintenanceJob.RemoveOrphanFiles,
            "Delete the files under the table's location that nothing references (metadata, snapshots, branches, tags, pipeline checkpoints and in-flight writes) and that are older than the safety window.",
            olderThan: true));
        table.Subcommands.Add(Create(MaintenanceJob.RewriteManifests,
            "Merge the table's small manifests into few, clustered by partition."));
    }

    private static Command Create(MaintenanceJob job, string description, bool targetSize = false, bool minFiles = false, bool olderThan = false, bool retainLast = false,
        bool sort = false)
    {
        var catalog = TableCatalog.Options.Create();
        var name = new Argument<string>("name") { Description = "Table name: namespace.table, e.g. db.events" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be done; change nothing" };
        var command = new Command(job.Name(), description) { name, dryRun };
        var target = new Option<string?>("--target-file-size") { Description = "Target size of the files written, e.g. 128MiB (default: the table's write.target-file-size-bytes, or 128 MiB)" };
        var min = new Option<int?>("--min-input-files") { Description = "Small files a partition needs to be compacted (default: the table's setting, 5)" };
        var older = new Option<string?>("--older-than") { Description = "Instead of the table's age: a time (2026-01-01T00:00:00Z) or an age (7d, 12h, 30m)" };
        var retain = new Option<int?>("--retain-last") { Description = "Snapshots each branch keeps at least (default: history.expire.min-snapshots-to-keep, 1)" };
        var strategy = new Option<string?>("--strategy") { Description = "binpack, or sort (by --sort-order, else the table's sort order) (default: the table's dataplane.maintenance.compaction.strategy, binpack)" };
        var sortOrder = new Option<string?>("--sort-order") { Description = "The order of a sort: 'id DESC NULLS LAST, name', 'bucket(16, id), days(ts)' or 'zorder(a, b)' (default: the table's dataplane.maintenance.compaction.sort-order, else its sort order)" };
        var sortMemory = new Option<string?>("--sort-memory") { Description = "Memory a sort holds before it spills sorted runs to disk, e.g. 512MiB (default 256 MiB; with --server, the server's Maintenance:SortMemoryBytes)" };
        if (sort)
        {
            command.Options.Add(strategy);
            command.Options.Add(sortOrder);
            command.Options.Add(sortMemory);
        }
        if (targetSize) command.Options.Add(target);
        if (minFiles) command.Options.Add(min);
        if (olderThan) command.Options.Add(older);
        if (retainLast) command.Options.Add(retain);
        catalog.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            try
            {
                var request = new JobRequest(job)
                {
                    DryRun = r.GetValue(dryRun),
                    TargetFileSizeBytes = r.GetValue(target) is { } t ? ByteSize.Parse(t, "--target-file-size") : null,
                    MinInputFiles = r.GetValue(min),
                    OlderThan = r.GetValue(older) is { } o ? Time(o) : null,
                    RetainLast = r.GetValue(retain),
                    Strategy = r.GetValue(strategy) is { } s ? RewriteStrategies.Parse(s, "--strategy") : null,
                    SortOrder = r.GetValue(sortOrder),
                    SortMemoryBytes = r.GetValue(sortMemory) is { } mem ? ByteSize.Parse(mem, "--sort-memory") : null,
                };
                if (request.SortOrder is not null && request.Strategy == RewriteStrategy.BinPack)
                    throw new ArgumentException("--sort-order needs --strategy sort (or no --strategy), not binpack.");
                var id = TableIdentifier.Parse(r.GetValue(name)!);
                var outcome = TableCatalog.Server(r, catalog) is var (server, _)
                    ? await ThroughServerAsync(server, r.GetValue(catalog.Token) ?? Environment.GetEnvironmentVariable(TableCatalog.TokenVariable), id, request, ct)
                    : await LocallyAsync(r, catalog, id, request, ct);
                Print(outcome);
                return outcome.Outcome is "failed" or "partial" ? 1 : 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or CatalogException or HttpRequestException or IOException
                                          or Iceberg.Metadata.CommitFailedException or NotSupportedException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<JobOutcome> LocallyAsync(ParseResult r, TableCatalog.Options options, TableIdentifier id, JobRequest request, CancellationToken ct)
    {
        using var c = await TableCatalog.OpenAsync(r, options, ct);
        var table = await c.LoadAsync(id, ct);
        var pipelines = Path.Combine(c.DataDirectory!, "pipelines");
        JobOutcome? outcome = null;
        await Bar(async report =>
        {
            outcome = await JobRunner.RunAsync(table, request, IoBudget.Unlimited, _ => Task.FromResult(InFlightFiles.Read(pipelines)), TimeProvider.System,
                new Progress(report), ct);
        });
        return outcome!;
    }

    private static async Task<JobOutcome> ThroughServerAsync(string server, string? token, TableIdentifier id, JobRequest request, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(5) };
        if (!string.IsNullOrEmpty(token))
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var path = $"api/v1/tables/{Uri.EscapeDataString(string.Join('.', id.Namespace))}/{Uri.EscapeDataString(id.Name)}/maintenance";
        var body = new JsonObject { ["jobs"] = new JsonArray(request.Job.Name()), ["dry_run"] = request.DryRun };
        if (request.TargetFileSizeBytes is { } t) body["target_file_size_bytes"] = t;
        if (request.MinInputFiles is { } m) body["min_input_files"] = m;
        if (request.OlderThan is { } o) body["older_than"] = o.ToString("O", CultureInfo.InvariantCulture);
        if (request.RetainLast is { } k) body["retain_last"] = k;
        if (request.Strategy is { } s) body["strategy"] = s.Name();
        if (request.SortOrder is { } order) body["sort_order"] = order;
        var queued = await ManagementApi.SendAsync(http, HttpMethod.Post, path + "/run", body.ToJsonString(), ct);
        var runId = queued.GetProperty("runs")[0].GetProperty("id").GetString()!;
        JsonElement run = default;
        await Bar(async report =>
        {
            while (true)
            {
                run = await ManagementApi.SendAsync(http, HttpMethod.Get, $"{path}/runs/{runId}", (string?)null, ct);
                if (run.GetProperty("state").GetString() == "finished") return;
                if (run.TryGetProperty("progress", out var p))
                    report(new MaintenanceProgress(p.GetProperty("phase").GetString()!, p.GetProperty("done").GetInt64(), p.GetProperty("total").GetInt64()));
                else
                    report(new MaintenanceProgress(run.GetProperty("state").GetString()!, 0, 0));
                await Task.Delay(250, ct);
            }
        });
        return new JobOutcome(run.GetProperty("outcome").GetString()!, run.GetProperty("summary").GetString()!,
            run.GetProperty("bytes_read").GetInt64(), run.GetProperty("bytes_written").GetInt64(), run.GetProperty("files_written").GetInt64(),
            run.GetProperty("files_deleted").GetInt64(), run.GetProperty("snapshots").EnumerateArray().Select(s => s.GetInt64()).ToList(),
            run.GetProperty("details").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()),
            run.TryGetProperty("files", out var files) ? files.EnumerateArray().Select(f => f.GetString()!).ToList() : []);
    }

    /// <summary>A progress bar of the job's current phase while <paramref name="work"/> runs.</summary>
    private static Task Bar(Func<Action<MaintenanceProgress>, Task> work) =>
        AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("starting", maxValue: 1);
                await work(p =>
                {
                    task.Description = Markup.Escape(p.Phase);
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = Math.Min(p.Done, task.MaxValue);
                });
                task.Value = task.MaxValue;
            });

    private static void Print(JobOutcome outcome)
    {
        Console.WriteLine($"{outcome.Outcome}: {outcome.Summary}");
        Console.WriteLine($"read {outcome.BytesRead} bytes, wrote {outcome.BytesWritten} bytes" +
            (outcome.Snapshots.Count == 0 ? "" : $", snapshot(s) {string.Join(", ", outcome.Snapshots)}"));
        foreach (var file in outcome.Files)
            Console.WriteLine($"  {file}");
    }

    /// <summary>A time as ISO 8601, or an age before now: <c>7d</c>, <c>12h</c>, <c>30m</c>, <c>45s</c>.</summary>
    internal static DateTimeOffset Time(string text)
    {
        var t = text.Trim();
        if (t.Length > 1 && "dhms".Contains(t[^1]) && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
            return DateTimeOffset.UtcNow - (t[^1] switch { 'd' => TimeSpan.FromDays(n), 'h' => TimeSpan.FromHours(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromSeconds(n) });
        return DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new ArgumentException($"--older-than '{text}' is neither a time (2026-01-01T00:00:00Z) nor an age (7d, 12h, 30m, 45s).");
    }

    private sealed class Progress(Action<MaintenanceProgress> report) : IProgress<MaintenanceProgress>
    {
        public void Report(MaintenanceProgress value) => report(value);
    }
}
