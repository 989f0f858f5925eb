using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Pipelines;
using DataPlane.Pipelines.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DataPlane.Maintenance;

/// <summary>
/// <c>/api/v1/tables/{namespace}/{table}/maintenance</c> (a namespace of several levels is dotted): GET the settings and
/// the runs (running, queued, then the history, newest first), PUT a change of settings (they are table properties),
/// POST <c>.../run</c> to queue jobs now, GET <c>.../runs/{id}</c> for one run (its progress while it runs).
/// </summary>
internal sealed class MaintenanceApi(ICatalog catalog, MaintenanceScheduler scheduler, TimeProvider time)
{
    public void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapManagementApi();
        api.MapGet("/tables/{ns}/{table}/maintenance", (HttpContext c, string ns, string table) => GetAsync(c, ns, table));
        api.MapPut("/tables/{ns}/{table}/maintenance", (HttpContext c, string ns, string table) => PutAsync(c, ns, table));
        api.MapPost("/tables/{ns}/{table}/maintenance/run", (HttpContext c, string ns, string table) => RunAsync(c, ns, table));
        api.MapGet("/tables/{ns}/{table}/maintenance/runs/{id}", (HttpContext c, string ns, string table, string id) => GetRunAsync(c, ns, table, id));
    }

    private async Task GetAsync(HttpContext c, string ns, string name)
    {
        if (await LoadAsync(c, ns, name) is not var (id, table)) return;
        string? settingsError = null;
        MaintenanceSettings? settings = null;
        try
        {
            settings = MaintenanceSettings.From(table.Metadata);
        }
        catch (ArgumentException e)
        {
            settingsError = e.Message;
        }
        var runs = scheduler.Active(id.ToString()).Concat(scheduler.History.For(id.ToString())).ToList();
        await JsonResponse.WriteAsync(c.Response, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("table", id.ToString());
            w.WritePropertyName("settings");
            if (settings is null) w.WriteNullValue();
            else MaintenanceSettingsJson.Write(w, settings);
            if (settingsError is not null) w.WriteString("settings_error", settingsError);
            w.WriteStartArray("runs");
            foreach (var run in runs) run.Write(w);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task PutAsync(HttpContext c, string ns, string name)
    {
        using var json = await JsonResponse.ReadAsync(c);
        if (json is null) return;
        Dictionary<string, string> properties;
        try
        {
            properties = MaintenanceSettingsJson.Parse(json.RootElement);
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        if (await LoadAsync(c, ns, name) is not var (_, table)) return;
        // A change that only the table can judge (a sort order names its columns) is refused before it is set.
        var merged = new Dictionary<string, string>(table.Metadata.Properties, StringComparer.Ordinal);
        foreach (var (key, value) in properties) merged[key] = value;
        if (SettingsError(table.Metadata with { Properties = merged }) is { } error && error != SettingsError(table.Metadata))
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status400BadRequest, error);
            return;
        }
        MaintenanceSettings settings;
        try
        {
            if (properties.Count > 0) await table.SetPropertiesAsync(properties, c.RequestAborted);
            settings = MaintenanceSettings.From(table.Metadata);
        }
        catch (ArgumentException e)
        {
            // The change is valid, but the table holds another property that is not (set through the catalog): named.
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status409Conflict, e.Message);
            return;
        }
        catch (CommitFailedException e)
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status409Conflict, $"The table kept changing; the settings were not changed: {e.Message}");
            return;
        }
        await JsonResponse.WriteAsync(c.Response, StatusCodes.Status200OK, w => MaintenanceSettingsJson.Write(w, settings));
    }

    private async Task RunAsync(HttpContext c, string ns, string name)
    {
        using var json = await JsonResponse.ReadAsync(c);
        if (json is null) return;
        List<JobRequest> requests;
        try
        {
            requests = ParseRun(json.RootElement, time.GetUtcNow());
        }
        catch (ArgumentException e)
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        if (await LoadAsync(c, ns, name) is not var (id, table)) return;
        if (requests.FirstOrDefault(r => r.Job == MaintenanceJob.Compact && (r.Strategy == RewriteStrategy.Sort || r.SortOrder is not null)) is { } sort)
        {
            try
            {
                RewriteDataFiles.OrderOf(table.Metadata, RewriteStrategy.Sort, sort.SortOrder ?? table.Metadata.Properties.GetValueOrDefault(MaintenanceSettings.CompactionSortOrderKey));
            }
            catch (ArgumentException e)
            {
                await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status400BadRequest, sort.SortOrder is null ? e.Message : $"$.sort_order: {e.Message}");
                return;
            }
        }
        var runs = requests.Select(r => scheduler.Enqueue(id, r, "manual")).ToList();
        c.Response.Headers.Location = $"/api/v1/tables/{ns}/{name}/maintenance/runs/{runs[0].Id}";
        await JsonResponse.WriteAsync(c.Response, StatusCodes.Status202Accepted, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("runs");
            foreach (var run in runs) run.Write(w);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task GetRunAsync(HttpContext c, string ns, string name, string runId)
    {
        if (await LoadAsync(c, ns, name) is not var (id, _)) return;
        if (scheduler.Find(id.ToString(), runId) is { } run)
            await JsonResponse.WriteAsync(c.Response, StatusCodes.Status200OK, run.Write);
        else
            await JsonResponse.NotFoundAsync(c.Response, $"maintenance run of table {id}", runId);
    }

    private static string? SettingsError(TableMetadata metadata)
    {
        try
        {
            MaintenanceSettings.From(metadata);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// <c>{"jobs": ["compact", ...], "dry_run": false, "target_file_size_bytes": n, "min_input_files": n, "strategy": "sort",
    /// "sort_order": "zorder(a, b)", "older_than": "2026-01-01T00:00:00Z", "retain_last": n}</c>, every field optional (all
    /// four jobs by default).
    /// </summary>
    internal static List<JobRequest> ParseRun(JsonElement body, DateTimeOffset now)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"The body must be a JSON object, not {body.ValueKind}.");
        List<MaintenanceJob> jobs = [.. MaintenanceJobs.All];
        var template = new JobRequest(MaintenanceJob.Compact);
        foreach (var p in body.EnumerateObject())
        {
            var v = p.Value;
            switch (p.Name)
            {
                case "jobs":
                    if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() is 0 or > 4 || v.EnumerateArray().Any(j => j.ValueKind != JsonValueKind.String))
                        throw new ArgumentException($"$.jobs must be an array of one to four job names ({string.Join(", ", MaintenanceJobs.All.Select(j => j.Name()))}), not {Show(v)}.");
                    jobs = v.EnumerateArray().Select(j => MaintenanceJobs.Parse(j.GetString()!)).Distinct().ToList();
                    break;
                case "dry_run":
                    template = template with { DryRun = v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new ArgumentException($"$.dry_run must be true or false, not {Show(v)}.") };
                    break;
                case "target_file_size_bytes":
                    template = template with { TargetFileSizeBytes = Whole(v, "$.target_file_size_bytes", 1024 * 1024, 1024L * 1024 * 1024) };
                    break;
                case "min_input_files":
                    template = template with { MinInputFiles = (int)Whole(v, "$.min_input_files", 1, 100_000) };
                    break;
                case "strategy":
                    template = template with
                    {
                        Strategy = v.ValueKind == JsonValueKind.String ? RewriteStrategies.Parse(v.GetString()!, "$.strategy") : throw new ArgumentException($"$.strategy must be binpack or sort, not {Show(v)}."),
                    };
                    break;
                case "sort_order":
                    template = template with
                    {
                        SortOrder = v.ValueKind == JsonValueKind.String && v.GetString()!.Trim() is { Length: > 0 and <= 1000 } order
                            ? order
                            : throw new ArgumentException($"$.sort_order must be a sort order such as \"id DESC NULLS LAST, name\" or \"zorder(a, b)\", not {Show(v)}."),
                    };
                    break;
                case "retain_last":
                    template = template with { RetainLast = (int)Whole(v, "$.retain_last", 1, 1_000_000) };
                    break;
                case "older_than":
                    if (v.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                        throw new ArgumentException($"$.older_than must be a time such as 2026-01-01T00:00:00Z, not {Show(v)}.");
                    template = template with { OlderThan = at };
                    break;
                default:
                    throw new ArgumentException($"$.{p.Name} is not a run option; valid: jobs, dry_run, target_file_size_bytes, min_input_files, strategy, sort_order, older_than, retain_last.");
            }
        }
        if (template.SortOrder is not null && template.Strategy == RewriteStrategy.BinPack)
            throw new ArgumentException("$.sort_order needs $.strategy sort (or no strategy), not binpack.");
        if (template.OlderThan is { } olderThan && jobs.Contains(MaintenanceJob.RemoveOrphanFiles) && olderThan > now - JobRunner.MinOrphanAge)
            throw new ArgumentException($"$.older_than {olderThan:O} is too recent for remove-orphan-files: files written in the last {JobRunner.MinOrphanAge.TotalMinutes:0} minute(s) may be another writer's commit in flight.");
        return jobs.Select(j => template with { Job = j }).ToList();
    }

    /// <summary>The table, or null with a 4xx written (404 when it or its namespace does not exist, 400 for a name that cannot be one).</summary>
    private async Task<(TableIdentifier, Table)?> LoadAsync(HttpContext c, string ns, string name)
    {
        TableIdentifier id;
        try
        {
            id = new TableIdentifier(ns.Split('.'), name);
            if (id.Namespace.Any(l => l.Length == 0)) throw new ArgumentException($"Namespace '{ns}' has an empty level; write levels dotted, e.g. db or accounting.tax.");
            return (id, await catalog.LoadTableAsync(id, c.RequestAborted));
        }
        catch (CatalogException e) when (e.IsNotFound)
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status404NotFound, e.Message);
        }
        catch (Exception e) when (e is CatalogException or ArgumentException)
        {
            await JsonResponse.ErrorAsync(c.Response, StatusCodes.Status400BadRequest, e.Message);
        }
        return null;
    }

    private static long Whole(JsonElement v, string path, long min, long max) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{path} must be a whole number from {min} to {max}, not {Show(v)}.");

    private static string Show(JsonElement v)
    {
        var text = v.GetRawText();
        return text.Length <= 100 ? text : text[..100] + "...";
    }
}
