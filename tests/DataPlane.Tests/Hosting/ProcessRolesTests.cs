using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary><c>dataplane serve --role</c>: separate real processes, each serving only its role's part.</summary>
public sealed class ProcessRolesTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-roles-").FullName;

    [Theory]
    [InlineData("ingest")]
    [InlineData("worker")]
    public async Task Ingest_and_worker_without_the_catalog_process_exit_2_naming_the_setting(string role)
    {
        await using var process = DataPlaneProcess.Start(["serve", "--role", role, "--port", DataPlaneProcess.FreePort().ToString(), "--data", "state"], _workDir);

        Assert.Equal(2, await process.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"--role {role} needs the catalog process's address: --catalog URL (environment DATAPLANE_CATALOG_URL", process.Output);
    }

    [Fact]
    public async Task An_unknown_role_exits_2_naming_it_and_the_catalog_url_is_taken_from_DATAPLANE_CATALOG_URL()
    {
        await using (var process = DataPlaneProcess.Start(["serve", "--role", "everything", "--port", DataPlaneProcess.FreePort().ToString(), "--data", "state"], _workDir))
        {
            Assert.Equal(2, await process.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("Role 'everything' is unknown; use all, ingest, worker or catalog.", process.Output);
        }
        // The environment's address is read (and checked): a bad one is named.
        await using (var process = DataPlaneProcess.Start(["serve", "--role", "worker", "--port", DataPlaneProcess.FreePort().ToString(), "--data", "state"], _workDir,
            new Dictionary<string, string> { ["DATAPLANE_CATALOG_URL"] = "catalog:8181" }))
        {
            Assert.Equal(2, await process.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("Catalog URL 'catalog:8181' is not an http:// or https:// address", process.Output);
        }
    }

    [Fact]
    public async Task A_catalog_process_keeps_definitions_and_serves_the_catalog_but_runs_no_pipeline_and_takes_no_records()
    {
        await using var catalog = await StartAsync("catalog", "catalog");
        using var http = new HttpClient { BaseAddress = catalog.BaseAddress };
        await CreateEventsPipelineAsync(http);

        using var pipeline = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/events_pipeline"));
        Assert.Equal("defined", pipeline.RootElement.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("streams/events", Json("""[{"id": 1}]"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("iceberg/v1/config")).StatusCode);
        Assert.Contains("\"role\":\"catalog\"", await http.GetStringAsync("healthz"));
        Assert.Equal(0, await catalog.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("as --role catalog", catalog.Output);
    }

    [Fact]
    public async Task An_ingest_process_refuses_records_for_a_local_log_stream_and_serves_no_catalog()
    {
        await using var catalog = await StartAsync("catalog", "catalog");
        await using var ingest = await StartAsync("ingest", "ingest", "--catalog", catalog.BaseAddress.ToString());
        using var http = new HttpClient { BaseAddress = ingest.BaseAddress };
        await PostAsync(http, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""");

        var refused = await http.PostAsync("streams/events", Json("""[{"id": 1}]"""));
        var body = await refused.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Stream 'events' keeps its records in a local log", body);
        Assert.Contains("Kafka-backed", body);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("iceberg/v1/config")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/databases")).StatusCode);
    }

    [Fact]
    public async Task A_worker_process_takes_no_records_and_serves_no_catalog()
    {
        await using var catalog = await StartAsync("catalog", "catalog");
        await using var worker = await StartAsync("worker", "worker", "--catalog", catalog.BaseAddress.ToString());
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        // The standard error body: the stream named, and the role that takes records.
        var refused = await http.PostAsync("streams/events", Json("""[{"id": 1}]"""));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.Contains("(--role worker) takes no records", error);
        Assert.Contains("stream 'events'", error);
        Assert.Contains("--role ingest", error);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("iceberg/v1/config")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/v1/pipelines")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("metrics")).StatusCode);
        Assert.Contains("\"role\":\"worker\"", await http.GetStringAsync("healthz"));
    }

    [Fact]
    public async Task Definitions_made_through_a_worker_reach_the_catalog_and_ingest_processes_and_a_delete_removes_them_everywhere()
    {
        await using var catalog = await StartAsync("catalog", "catalog");
        await using var worker = await StartAsync("worker", "worker", "--catalog", catalog.BaseAddress.ToString());
        await using var ingest = await StartAsync("ingest", "ingest", "--catalog", catalog.BaseAddress.ToString());
        using var toCatalog = new HttpClient { BaseAddress = catalog.BaseAddress };
        using var toWorker = new HttpClient { BaseAddress = worker.BaseAddress };
        using var toIngest = new HttpClient { BaseAddress = ingest.BaseAddress };

        await CreateEventsPipelineAsync(toWorker);

        // The catalog process made them; the worker answered only once it held them too; the ingest process polls.
        foreach (var http in new[] { toCatalog, toWorker })
        {
            Assert.Equal("INSERT INTO events_table SELECT * FROM events", await PropertyAsync(http, "api/v1/pipelines/events_pipeline", "sql"));
            Assert.Equal("events", await PropertyAsync(http, "api/v1/sinks/events_table", "table"));
        }
        await UntilAsync(toIngest, "api/v1/pipelines/events_pipeline", HttpStatusCode.OK);
        Assert.Equal("events", await PropertyAsync(toIngest, "api/v1/sinks/events_table", "table"));
        Assert.Equal("defined", await PropertyAsync(toCatalog, "api/v1/pipelines/events_pipeline", "state"));
        Assert.Equal("defined", await PropertyAsync(toIngest, "api/v1/pipelines/events_pipeline", "state"));
        Assert.NotEqual("defined", await PropertyAsync(toWorker, "api/v1/pipelines/events_pipeline", "state"));

        // A write the catalog process refuses comes back as it answered.
        var refused = await toWorker.PostAsync("api/v1/pipelines", Json("""{"name": "other", "sql": "INSERT INTO events_table SELECT * FROM nowhere"}"""));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Contains("No stream named 'nowhere'", await refused.Content.ReadAsStringAsync());
        var conflict = await toIngest.PostAsync("api/v1/streams", Json("""{"name": "events"}"""));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("A stream named 'events' already exists", await conflict.Content.ReadAsStringAsync());

        // A change made through the ingest process (the stream deleted and made again with another schema) reaches the worker.
        Assert.Equal(HttpStatusCode.NoContent, (await toIngest.DeleteAsync("api/v1/pipelines/events_pipeline")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await toIngest.DeleteAsync("api/v1/streams/events")).StatusCode);
        await PostAsync(toIngest, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""");
        await UntilAsync(toWorker, "api/v1/pipelines/events_pipeline", HttpStatusCode.NotFound);
        await UntilAsync(toWorker, "api/v1/streams/events", HttpStatusCode.OK, body => body.Contains("\"user\""));

        // Deleted through the worker: gone from every process.
        Assert.Equal(HttpStatusCode.NoContent, (await toWorker.DeleteAsync("api/v1/sinks/events_table")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await toWorker.DeleteAsync("api/v1/streams/events")).StatusCode);
        foreach (var http in new[] { toCatalog, toWorker, toIngest })
        {
            await UntilAsync(http, "api/v1/streams/events", HttpStatusCode.NotFound);
            await UntilAsync(http, "api/v1/sinks/events_table", HttpStatusCode.NotFound);
        }

        // A Kafka source's secret reaches the worker whole (hidden from its answers as everywhere).
        await PostAsync(toIngest, "api/v1/streams", """
            {"name": "clicks", "schema": {"fields": [{"name": "id", "type": "long"}]},
             "source": {"type": "kafka", "bootstrap_servers": "127.0.0.1:9", "topic": "clicks", "config": {"sasl.password": "hunter2"}}}
            """);
        await UntilAsync(toWorker, "api/v1/streams?secrets=true", HttpStatusCode.OK, body => body.Contains("hunter2"));
        Assert.Contains("\"sasl.password\":\"***\"", await toWorker.GetStringAsync("api/v1/streams/clicks"));
    }

    [Fact]
    public async Task A_write_to_a_worker_whose_catalog_process_is_down_answers_502_naming_it()
    {
        var nobody = new Uri($"http://127.0.0.1:{DataPlaneProcess.FreePort()}/");
        await using var worker = await StartAsync("worker", "worker", "--catalog", nobody.ToString());
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        var response = await http.PostAsync("api/v1/streams", Json("""{"name": "events"}"""));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains($"The catalog process at {nobody} (--catalog)", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/streams/events")).StatusCode);
    }

    [Fact]
    public async Task A_flush_sent_to_an_ingest_process_whose_catalog_process_is_down_answers_502_naming_it()
    {
        var nobody = new Uri($"http://127.0.0.1:{DataPlaneProcess.FreePort()}/");
        await using var ingest = await StartAsync("ingest", "ingest", "--catalog", nobody.ToString());
        using var http = new HttpClient { BaseAddress = ingest.BaseAddress, Timeout = TimeSpan.FromSeconds(100) };

        // The catalog process flushes the workers' pipelines: the ingest process, which runs none, says it cannot reach it.
        var response = await http.PostAsync("api/v1/pipelines/events_pipeline/flush", null);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains($"The catalog process at {nobody} (--catalog)", await response.Content.ReadAsStringAsync());
    }

    private static async Task<string?> PropertyAsync(HttpClient http, string path, string property)
    {
        var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty(property).GetString();
    }

    /// <summary>Polls until GET answers <paramref name="status"/> (and the body passes <paramref name="check"/>), for a generous minute.</summary>
    private static async Task UntilAsync(HttpClient http, string path, HttpStatusCode status, Func<string, bool>? check = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            var response = await http.GetAsync(path);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.StatusCode == status && (check is null || check(last)))
                return;
            await Task.Delay(100);
        }
        Assert.Fail($"GET {http.BaseAddress}{path} did not answer {(int)status} within 60 s; last: {last}");
    }

    private async Task<DataPlaneProcess> StartAsync(string role, string data, params string[] more)
    {
        var port = DataPlaneProcess.FreePort();
        return await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--role", role, "--port", port.ToString(), "--data", data, .. more]);
    }

    private static async Task CreateEventsPipelineAsync(HttpClient http)
    {
        await PostAsync(http, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""");
        await PostAsync(http, "api/v1/sinks", """{"name": "events_table", "type": "iceberg", "namespace": "default", "table": "events"}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "events_pipeline", "sql": "INSERT INTO events_table SELECT * FROM events"}""");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, Json(json));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
