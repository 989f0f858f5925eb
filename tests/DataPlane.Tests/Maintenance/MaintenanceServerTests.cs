using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Maintenance;

/// <summary>
/// Table maintenance in a real <c>dataplane serve</c>: the scheduler compacts and expires a pipeline's table as its
/// properties say, the settings and run history are served (and survive a restart), runs are queued by hand through the
/// API and by the CLI (through the server and on the data directory), the figures reach <c>/metrics</c>, and bad input
/// is a 4xx naming it.
/// </summary>
public sealed class MaintenanceServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("maintenance-server-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();
    private const string Maintenance = "api/v1/tables/default/events/maintenance";

    private Task<DataPlaneProcess> ServeAsync(double checkSeconds = 1) =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", "data", "--log-format", "simple"],
            new Dictionary<string, string> { ["DATAPLANE_MAINTENANCE__CHECKSECONDS"] = checkSeconds.ToString(CultureInfo.InvariantCulture) });

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A pipeline into <c>default.events</c> (partitioned by user, two of them) with <paramref name="commits"/> commits of two records each, one a partition.</summary>
    private static async Task FeedAsync(HttpClient http, int commits, int first = 0)
    {
        if (first == 0)
        {
            await SendAsync(http, HttpMethod.Post, "api/v1/streams", """{"name":"events","schema":{"fields":[{"name":"id","type":"long","required":true},{"name":"user","type":"string"}]}}""", HttpStatusCode.Created);
            await SendAsync(http, HttpMethod.Post, "api/v1/sinks", """{"name":"t","type":"iceberg","namespace":"default","table":"events","partition":["user"],"rolling":{"interval_seconds":3600}}""", HttpStatusCode.Created);
            await SendAsync(http, HttpMethod.Post, "api/v1/pipelines", """{"name":"p","sql":"INSERT INTO t SELECT * FROM events"}""", HttpStatusCode.Created);
        }
        for (int i = first; i < first + commits; i++)
        {
            await SendAsync(http, HttpMethod.Post, "streams/events", $$"""[{"id":{{2 * i}},"user":"a"},{"id":{{2 * i + 1}},"user":"b"}]""", HttpStatusCode.OK);
            await SendAsync(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK);
        }
    }

    private static async Task<JsonElement> CurrentSummaryAsync(HttpClient http)
    {
        var table = await SendAsync(http, HttpMethod.Get, "iceberg/v1/namespaces/default/tables/events", null, HttpStatusCode.OK);
        var metadata = table.GetProperty("metadata");
        var current = metadata.GetProperty("current-snapshot-id").GetInt64();
        return metadata.GetProperty("snapshots").EnumerateArray().Single(s => s.GetProperty("snapshot-id").GetInt64() == current).GetProperty("summary");
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient http, string job, string outcome)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonElement status = default;
        while (DateTime.UtcNow < deadline)
        {
            status = await SendAsync(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);
            foreach (var run in status.GetProperty("runs").EnumerateArray())
                if (run.GetProperty("job").GetString() == job && run.GetProperty("state").GetString() == "finished" && run.GetProperty("outcome").GetString() == outcome)
                    return run;
            await Task.Delay(200);
        }
        Assert.Fail($"no {job} run with outcome {outcome} within 90 s: {status}");
        return default;
    }

    [Fact]
    public async Task The_scheduler_compacts_and_expires_a_pipelines_table_as_its_properties_say_and_keeps_the_history()
    {
        await using (var server = await ServeAsync())
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            // Off until the table exists and holds its small files: then on, with expiry of anything older than a second.
            await FeedAsync(http, 1);
            await SendAsync(http, HttpMethod.Put, Maintenance, """{"compaction": {"enabled": false}, "expire_snapshots": {"enabled": false}}""", HttpStatusCode.OK);
            await FeedAsync(http, 11, first: 1);
            Assert.Equal("24", (await CurrentSummaryAsync(http)).GetProperty("total-data-files").GetString());
            var settings = await SendAsync(http, HttpMethod.Put, Maintenance,
                """{"compaction": {"enabled": true, "min_input_files": 5}, "expire_snapshots": {"enabled": true, "max_snapshot_age_ms": 1000}}""", HttpStatusCode.OK);
            Assert.Equal(5, settings.GetProperty("compaction").GetProperty("min_input_files").GetInt32());

            var compact = await WaitForRunAsync(http, "compact", "succeeded");
            Assert.Equal("schedule", compact.GetProperty("trigger").GetString());
            Assert.True(compact.GetProperty("bytes_read").GetInt64() > 0 && compact.GetProperty("bytes_written").GetInt64() > 0, compact.ToString());
            await WaitForRunAsync(http, "expire-snapshots", "succeeded");
            var summary = await CurrentSummaryAsync(http);
            Assert.Equal("2", summary.GetProperty("total-data-files").GetString());
            Assert.Equal("24", summary.GetProperty("total-records").GetString());

            // The figures are those of the scheduler's latest look at the table, a second at most after the runs.
            var metrics = "";
            for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(200))
            {
                metrics = await http.GetStringAsync("metrics");
                if (System.Text.RegularExpressions.Regex.IsMatch(metrics, "dataplane_table_snapshots\\{otel_scope_name=\"DataPlane\\.Maintenance\",table=\"default.events\"\\} [1-3]\n")) break;
            }
            Assert.Matches("dataplane_table_snapshots\\{otel_scope_name=\"DataPlane\\.Maintenance\",table=\"default.events\"\\} [1-3]\n", metrics);
            Assert.Contains("dataplane_table_data_files{otel_scope_name=\"DataPlane.Maintenance\",table=\"default.events\"} 2", metrics, StringComparison.Ordinal);
            Assert.Contains("dataplane_table_maintenance_last_run_timestamp_seconds{otel_scope_name=\"DataPlane.Maintenance\",job=\"compact\",outcome=\"succeeded\",table=\"default.events\"}", metrics, StringComparison.Ordinal);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(60)));
        }

        // The history outlives the process; with the scheduler's check far away, a run by hand is what runs.
        await using (var server = await ServeAsync(checkSeconds: 3600))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var status = await SendAsync(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);
            Assert.Contains(status.GetProperty("runs").EnumerateArray(), r => r.GetProperty("job").GetString() == "compact" && r.GetProperty("outcome").GetString() == "succeeded");
            await FeedAsync(http, 6, first: 12);
            var queued = await SendAsync(http, HttpMethod.Post, Maintenance + "/run", """{"jobs": ["compact", "rewrite-manifests"]}""", HttpStatusCode.Accepted);
            var runs = queued.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(["compact", "rewrite-manifests"], runs.Select(r => r.GetProperty("job").GetString()));
            var id = runs[0].GetProperty("id").GetString();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            JsonElement run;
            do
            {
                run = await SendAsync(http, HttpMethod.Get, $"{Maintenance}/runs/{id}", null, HttpStatusCode.OK);
                await Task.Delay(100);
            }
            while (run.GetProperty("state").GetString() != "finished" && DateTime.UtcNow < deadline);
            Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
            Assert.Equal("manual", run.GetProperty("trigger").GetString());
            Assert.Equal("36", (await CurrentSummaryAsync(http)).GetProperty("total-records").GetString());
        }
    }

    [Fact]
    public async Task Bad_settings_and_run_requests_are_4xx_naming_the_value_and_change_nothing()
    {
        await using var server = await ServeAsync(checkSeconds: 3600);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await FeedAsync(http, 1);
        var before = await SendAsync(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);

        async Task RefusedAsync(HttpMethod method, string path, string body, HttpStatusCode status, string named)
        {
            var error = await SendAsync(http, method, path, body, status);
            Assert.Contains(named, error.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"compaction": {"target_file_size_bytes": 1000}}""", HttpStatusCode.BadRequest, "$.compaction.target_file_size_bytes");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"compaction": {"min_input_files": "5"}}""", HttpStatusCode.BadRequest, "\"5\"");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"expire_snapshots": {"max_age": 5}}""", HttpStatusCode.BadRequest, "$.expire_snapshots.max_age");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"expire_snapshots": {"max_snapshots": 0}}""", HttpStatusCode.BadRequest, "$.expire_snapshots.max_snapshots");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"enabled": "yes"}""", HttpStatusCode.BadRequest, "$.enabled");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"remove_orphan_files": {"older_than_ms": 5}}""", HttpStatusCode.BadRequest, "$.remove_orphan_files.older_than_ms");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"compaction": {"strategy": "zorder"}}""", HttpStatusCode.BadRequest, "$.compaction.strategy");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"compaction": {"strategy": "sort", "sort_order": "nope DESC"}}""", HttpStatusCode.BadRequest, "'nope'");
        await RefusedAsync(HttpMethod.Put, Maintenance, """{"compaction": {"strategy": "sort"}}""", HttpStatusCode.BadRequest, "no sort order");
        await RefusedAsync(HttpMethod.Put, Maintenance, "[1]", HttpStatusCode.BadRequest, "JSON object");
        await RefusedAsync(HttpMethod.Put, Maintenance, "{", HttpStatusCode.BadRequest, "not valid JSON");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"jobs": ["vacuum"]}""", HttpStatusCode.BadRequest, "'vacuum'");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"jobs": ["remove-orphan-files"], "older_than": "2100-01-01T00:00:00Z"}""", HttpStatusCode.BadRequest, "too recent");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"retain_last": 0}""", HttpStatusCode.BadRequest, "$.retain_last");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"force": true}""", HttpStatusCode.BadRequest, "$.force");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"jobs": ["compact"], "sort_order": "zorder(id, nope)"}""", HttpStatusCode.BadRequest, "'nope'");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"jobs": ["compact"], "strategy": "sort"}""", HttpStatusCode.BadRequest, "no sort order");
        await RefusedAsync(HttpMethod.Post, Maintenance + "/run", """{"strategy": "binpack", "sort_order": "id"}""", HttpStatusCode.BadRequest, "$.sort_order");
        await RefusedAsync(HttpMethod.Get, "api/v1/tables/default/nope/maintenance", "", HttpStatusCode.NotFound, "default.nope");
        await RefusedAsync(HttpMethod.Get, "api/v1/tables/a..b/events/maintenance", "", HttpStatusCode.BadRequest, "a..b");
        await RefusedAsync(HttpMethod.Get, Maintenance + "/runs/42", "", HttpStatusCode.NotFound, "'42'");

        var after = await SendAsync(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);
        Assert.Equal(before.GetProperty("settings").ToString(), after.GetProperty("settings").ToString());
        Assert.Equal(before.GetProperty("runs").GetArrayLength(), after.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task The_cli_runs_a_job_through_the_server_or_on_the_data_directory()
    {
        await using (var server = await ServeAsync(checkSeconds: 3600))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            await FeedAsync(http, 6);
            using var dry = DataPlaneProcess.Start(["table", "compact", "default.events", "--server", server.BaseAddress.ToString(), "--dry-run", "--sort-order", "id DESC"], _dir);
            Assert.True(await dry.WaitAsync(TimeSpan.FromMinutes(2)) == 0, dry.Output);
            Assert.Contains("dry-run: 12 file(s) in 2 group(s) would be rewritten sorted by id DESC NULLS LAST", dry.Output, StringComparison.Ordinal);
            // The table's settings: a z-order, shown back; a run by hand may still ask for bin-packing.
            var settings = await SendAsync(http, HttpMethod.Put, Maintenance, """{"compaction": {"strategy": "sort", "sort_order": "zorder(id, user)"}}""", HttpStatusCode.OK);
            Assert.Equal("sort", settings.GetProperty("compaction").GetProperty("strategy").GetString());
            Assert.Equal("zorder(id, user)", settings.GetProperty("compaction").GetProperty("sort_order").GetString());
            using var cli = DataPlaneProcess.Start(["table", "compact", "default.events", "--server", server.BaseAddress.ToString(), "--strategy", "binpack"], _dir);
            Assert.True(await cli.WaitAsync(TimeSpan.FromMinutes(2)) == 0, cli.Output);
            Assert.Contains("succeeded: rewrote 12 file(s) into 2 in 2 of 2 group(s)", cli.Output, StringComparison.Ordinal);
            Assert.Equal("2", (await CurrentSummaryAsync(http)).GetProperty("total-data-files").GetString());
            using var early = DataPlaneProcess.Start(["table", "remove-orphan-files", "default.events", "--server", server.BaseAddress.ToString(), "--older-than", "10s"], _dir);
            Assert.Equal(1, await early.WaitAsync(TimeSpan.FromMinutes(2)));
            Assert.Contains("too recent", early.Output, StringComparison.Ordinal);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(60)));
        }

        // On the data directory, with no server: the job runs in the command's own process.
        using var local = DataPlaneProcess.Start(["table", "expire-snapshots", "default.events", "--data", "data", "--older-than", "0s"], _dir);
        Assert.True(await local.WaitAsync(TimeSpan.FromMinutes(2)) == 0, local.Output);
        Assert.Contains("succeeded: expired 7 snapshot(s)", local.Output, StringComparison.Ordinal);
        using var scan = DataPlaneProcess.Start(["table", "scan", "default.events", "--data", "data", "--rows", "0"], _dir);
        Assert.True(await scan.WaitAsync(TimeSpan.FromMinutes(2)) == 0, scan.Output);
        Assert.Contains("2 file(s), 12 record(s)", scan.Output, StringComparison.Ordinal);

        // A sort by the table's setting (the z-order), through runs spilled to disk under a tiny memory budget.
        using var sorted = DataPlaneProcess.Start(["table", "compact", "default.events", "--data", "data", "--min-input-files", "1", "--sort-memory", "1"], _dir);
        Assert.True(await sorted.WaitAsync(TimeSpan.FromMinutes(2)) == 0, sorted.Output);
        Assert.Contains("succeeded: rewrote 2 file(s) into 2 sorted by zorder(id, user) (2 sorted run(s) spilled to disk) in 2 of 2 group(s)", sorted.Output, StringComparison.Ordinal);
        using var again = DataPlaneProcess.Start(["table", "scan", "default.events", "--data", "data", "--rows", "0"], _dir);
        Assert.True(await again.WaitAsync(TimeSpan.FromMinutes(2)) == 0, again.Output);
        Assert.Contains("2 file(s), 12 record(s)", again.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
