using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataPlane.TestServices;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Tests.Fuzz;

/// <summary>
/// Thousands of wrong requests against a real <c>dataplane serve</c>: every answer is below 500, the server stays up,
/// and a refused request leaves stored state (streams and their logs, sinks, pipelines and their commits, databases and
/// their positions, namespaces, tables and their metadata, views) as it was. The seed is printed, and each failure
/// prints the request that caused it.
/// </summary>
public sealed class HttpSurfaceFuzzTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>At least 10,000 in CI; <c>DATAPLANE_FUZZ_REQUESTS</c> runs more (or fewer, while working on a finding).</summary>
    private static readonly int Requests = Environment.GetEnvironmentVariable("DATAPLANE_FUZZ_REQUESTS") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 10_000;
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-fuzz-").FullName;

    [Fact]
    public async Task Generated_bad_requests_get_4xx_leave_state_unchanged_and_the_server_up()
    {
        // A fixed seed in the suite, so a run is repeatable; DATAPLANE_FUZZ_SEED explores others.
        int seed = Environment.GetEnvironmentVariable("DATAPLANE_FUZZ_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 20261205;
        output.WriteLine($"seed {seed} (DATAPLANE_FUZZ_SEED={seed} repeats this run)");
        var port = DataPlaneProcess.FreePort();
        // No maintenance scheduler: after a hundred small commits it compacts the fixture's table on its own, a change
        // the state comparison would take for one made by the refused request before it.
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"],
            new Dictionary<string, string> { ["DATAPLANE_MAINTENANCE__ENABLED"] = "false" });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var targets = await SetUpAsync(http);
        var generator = new FuzzRequestGenerator(new Random(seed), targets);

        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        string? state = null;
        void Fail(string failure)
        {
            failures.Add(failure);
            output.WriteLine(failure);
        }
        for (int i = 0; i < Requests && failures.Count < 40; i++)
        {
            var request = generator.Next();
            if (request.Writes)
                state ??= await FingerprintAsync(http, targets);
            int status;
            string answer;
            try
            {
                (status, answer) = await SendAsync(http, request);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (server.HasExited)
                    Assert.Fail($"dataplane exited after request {i}: {request}\n{server.Output[^Math.Min(server.Output.Length, 8000)..]}");
                Fail($"#{i} no answer ({e.GetType().Name}: {e.Message}): {request}\n  server's errors: {string.Join("\n", server.Output.Split('\n').Where(l => l.Contains("\"Error\"", StringComparison.Ordinal)).TakeLast(5))}");
                continue;
            }
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 500)
                Fail($"#{i} {status} {Shorten(answer)}: {request}");
            if (!request.Writes)
                continue;
            if (status is >= 200 and < 300)
            {
                // Accepted: the state may change, on purpose, and some of it after the answer (a new pipeline creates its
                // sink's table as it starts). The next refused request is compared with the state once it settles.
                state = await SettledFingerprintAsync(http, targets);
                continue;
            }
            var after = await FingerprintAsync(http, targets);
            if (after != state)
            {
                var changed = state!.Split(" | ").Zip(after.Split(" | ")).Where(p => p.First != p.Second);
                Fail($"#{i} refused with {status} but changed stored state: {request}\n" + string.Join("\n", changed.Select(p => $"  before: {Shorten(p.First)}\n  after:  {Shorten(p.Second)}")));
                state = after;
            }
        }
        output.WriteLine("statuses: " + string.Join(", ", statuses.Select(p => $"{p.Key}: {p.Value}")));

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        // The fixture still works end to end: a record ingested now is committed by its pipeline.
        using (var ingest = await http.PostAsync($"streams/{targets.Stream}", Json("""[{"id": 424242, "user": "after"}]""")))
            Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
        using (var flush = await http.PostAsync($"api/v1/pipelines/{targets.Pipeline}/flush", null))
            Assert.True(flush.IsSuccessStatusCode, await flush.Content.ReadAsStringAsync());
        Assert.True(failures.Count == 0, $"{failures.Count} failure(s) (seed {seed}):\n" + string.Join("\n", failures));
    }

    private static async Task<FuzzTargets> SetUpAsync(HttpClient http)
    {
        await PostAsync(http, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "ts", "type": "timestamptz"}, {"name": "user", "type": "string"}]}}""");
        await PostAsync(http, "api/v1/sinks", """{"name": "events_table", "type": "iceberg", "namespace": "default", "table": "events", "partition": ["day(ts)"], "rolling": {"interval_seconds": 86400}}""");
        await PostAsync(http, "api/v1/sinks", """{"name": "idle_table", "type": "iceberg", "namespace": "default", "table": "idle", "rolling": {"interval_seconds": 86400}}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "events_pipeline", "sql": "INSERT INTO events_table SELECT * FROM events"}""");
        await PostAsync(http, "streams/events", """[{"id": 1, "ts": "2026-11-25T10:00:00Z", "user": "ada"}, {"id": 2, "ts": "2026-11-24T09:00:00Z", "user": "bob"}]""");
        await PostAsync(http, "api/v1/pipelines/events_pipeline/flush", null);
        await PostAsync(http, "api/v1/databases", """{"name": "app", "replicas": 1}""");
        await PostAsync(http, "db/app/query", """{"batch": [{"sql": "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)"}, {"sql": "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB)"}, {"sql": "INSERT INTO users(name) VALUES ('ada')"}]}""");
        await PostAsync(http, "iceberg/v1/namespaces/default/views", """
            {"name": "v", "schema": {"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "id", "required": false, "type": "long"}]},
             "view-version": {"version-id": 1, "timestamp-ms": 1764064800000, "schema-id": 0, "summary": {}, "representations": [{"type": "sql", "sql": "SELECT id FROM events", "dialect": "spark"}], "default-namespace": ["default"]}, "properties": {}}
            """);
        using var table = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces/default/tables/events"));
        var metadata = table.RootElement.GetProperty("metadata");
        long snapshotId = metadata.GetProperty("current-snapshot-id").GetInt64();
        var manifestList = metadata.GetProperty("snapshots").EnumerateArray().Single(s => s.GetProperty("snapshot-id").GetInt64() == snapshotId).GetProperty("manifest-list").GetString()!;
        return new FuzzTargets("events", "events_table", "idle_table", "events_pipeline", "app", "default", "events",
            metadata.GetProperty("table-uuid").GetString()!, metadata.GetProperty("location").GetString()!,
            table.RootElement.GetProperty("metadata-location").GetString()!, snapshotId, manifestList, "v");
    }

    /// <summary>
    /// What a refused request must not change: the names of every stream, sink, pipeline, database, namespace, table
    /// and view; the fixture stream's log, the pipeline's last commit, the database's position, and the fixture table's
    /// metadata. Volatile figures (lag, read offsets, states) are left out.
    /// </summary>
    private static async Task<string> FingerprintAsync(HttpClient http, FuzzTargets t)
    {
        string[] paths =
        [
            "api/v1/streams", "api/v1/sinks", "api/v1/pipelines", "api/v1/databases", "iceberg/v1/namespaces",
            $"iceberg/v1/namespaces/{t.Namespace}", $"iceberg/v1/namespaces/{t.Namespace}/tables", $"iceberg/v1/namespaces/{t.Namespace}/views",
            $"iceberg/v1/namespaces/{t.Namespace}/tables/{t.Table}", $"iceberg/v1/namespaces/{t.Namespace}/views/{t.View}",
        ];
        var answers = await Task.WhenAll(paths.Select(async p =>
        {
            using var response = await http.GetAsync(p);
            var text = await response.Content.ReadAsStringAsync();
            return $"{p} {(int)response.StatusCode} {(response.IsSuccessStatusCode ? Stable(p, JsonNode.Parse(text)) : "")}";
        }));
        return string.Join(" | ", answers);
    }

    private static async Task<string> SettledFingerprintAsync(HttpClient http, FuzzTargets t)
    {
        var last = await FingerprintAsync(http, t);
        for (int i = 0; i < 100; i++)
        {
            await Task.Delay(20);
            var next = await FingerprintAsync(http, t);
            if (next == last)
                return next;
            last = next;
        }
        return last;
    }

    private static string Stable(string path, JsonNode? node)
    {
        switch (path)
        {
            case "api/v1/streams":
                return string.Join(",", node!["streams"]!.AsArray().Select(s => $"{s!["name"]}:{s["log"]!["start_offset"]}-{s["log"]!["end_offset"]}"));
            case "api/v1/pipelines":
                return string.Join(",", node!["pipelines"]!.AsArray().Select(p => $"{p!["name"]}:{p["sql"]}:{p["last_commit"]?["snapshot_id"]}"));
            default:
                if (path.EndsWith("/tables/events", StringComparison.Ordinal) || path.EndsWith("/views/v", StringComparison.Ordinal))
                    return node!["metadata-location"]!.ToJsonString();
                return node!.ToJsonString();
        }
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpClient http, FuzzRequest request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.PathAndQuery.TrimStart('/'));
        if (request.Body is not null && request.Method is not ("GET" or "HEAD"))
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null && MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
                message.Content.Headers.ContentType = type;
        }
        foreach (var (name, value) in request.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.Ordinal))
            {
                if (name != "Content-Type")
                    message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            else
                message.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task PostAsync(HttpClient http, string path, string? json)
    {
        using var response = await http.PostAsync(path, json is null ? null : Json(json));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Shorten(string text) => text.Length > 400 ? text[..400] + "..." : text;

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
