using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// A worker process (<c>--role worker</c>) runs a pipeline made through its management API and commits through the catalog
/// process's REST catalog into the warehouse they share: the table is the catalog process's, and DuckDB reads every record once.
/// </summary>
public sealed class WorkerCommitsThroughCatalogTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IAsyncLifetime
{
    private readonly RoleProcesses _roles = new(Directory.CreateTempSubdirectory("dataplane-worker-").FullName);

    [Fact]
    public async Task A_workers_pipeline_commits_to_the_catalog_process_and_DuckDB_reads_each_record_once()
    {
        const int total = 2_000;
        var topic = $"clicks-{Guid.NewGuid():N}";
        using (var producer = new ProducerBuilder<Null, string>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build())
        {
            for (int i = 0; i < total; i++)
                producer.Produce(topic, new Message<Null, string> { Value = $$"""{"id": {{i}}, "url": "/p{{i % 13}}"}""" });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        var catalog = await _roles.StartCatalogAsync();
        var worker = await _roles.StartWorkerAsync("worker");
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        var config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        await PostAsync(http, "api/v1/streams", $$"""
            {"name": "clicks", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "url", "type": "string"}]},
             "source": {"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}} } }
            """);
        await PostAsync(http, "api/v1/sinks", """{"name": "clicks_table", "type": "iceberg", "namespace": "web", "table": "clicks"}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "clicks_pipeline", "sql": "INSERT INTO clicks_table SELECT * FROM clicks"}""");

        // Flush until the worker's commits hold every record, read back through the catalog process by DuckDB.
        using var remote = await RemoteCatalog.OpenAsync(new Uri(catalog.BaseAddress, "iceberg"));
        var deadline = DateTime.UtcNow.AddSeconds(120);
        List<long> ids = [];
        while (ids.Count < total)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the table holds {ids.Count} of {total} records after 120 s.\nworker:\n{worker.Output}\ncatalog:\n{catalog.Output}");
            await http.PostAsync("api/v1/pipelines/clicks_pipeline/flush", null);
            if (await remote.TryLoadTableAsync(new TableIdentifier(["web"], "clicks")) is { } table)
                ids = await Reads(table).CurrentDuckDbIdsAsync();
            if (ids.Count < total)
                await Task.Delay(200);
        }

        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), ids);
        Assert.StartsWith(Path.GetFullPath(_roles.Warehouse), new Uri((await remote.TryLoadTableAsync(new TableIdentifier(["web"], "clicks")))!.Metadata.Location).LocalPath);
        Assert.False(File.Exists(Path.Combine(_roles.WorkingDirectory, "worker", "catalog", "catalog.db")), "the worker keeps no catalog of its own");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("iceberg/v1/namespaces/web/tables/clicks")).StatusCode);
    }

    [Fact]
    public async Task Records_sent_to_an_ingest_process_reach_the_catalog_processs_table_through_Kafka_and_a_worker_once()
    {
        const int total = 2_000;
        var topic = $"orders-{Guid.NewGuid():N}";
        var catalog = await _roles.StartCatalogAsync();
        var worker = await _roles.StartWorkerAsync("worker");
        var ingest = await _roles.StartIngestAsync("ingest");
        using var toIngest = new HttpClient { BaseAddress = ingest.BaseAddress };
        using var toWorker = new HttpClient { BaseAddress = worker.BaseAddress };

        // The ingest process produces to the topic of a Kafka-backed stream; the worker's pipeline reads that topic through
        // a stream with a Kafka source of it. Both made once, through the ingest process.
        var config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        const string Fields = """{"fields": [{"name": "id", "type": "long", "required": true}, {"name": "item", "type": "string"}]}""";
        await PostAsync(toIngest, "api/v1/streams", $$"""
            {"name": "orders", "schema": {{Fields}},
             "source": {"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}}, "produce": true } }
            """);
        await PostAsync(toIngest, "api/v1/streams", $$"""
            {"name": "orders_topic", "schema": {{Fields}},
             "source": {"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}} } }
            """);
        await PostAsync(toIngest, "api/v1/sinks", """{"name": "orders_table", "type": "iceberg", "namespace": "shop", "table": "orders"}""");
        await PostAsync(toIngest, "api/v1/pipelines", """{"name": "orders_pipeline", "sql": "INSERT INTO orders_table SELECT * FROM orders_topic"}""");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await toIngest.GetAsync("api/v1/streams/orders")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the ingest process did not hold stream 'orders' within 60 s");
            await Task.Delay(100);
        }

        for (int first = 0; first < total; first += 500)
        {
            var batch = string.Join('\n', Enumerable.Range(first, 500).Select(i => $$"""{"id": {{i}}, "item": "i{{i % 7}}"}"""));
            var answer = await toIngest.PostAsync("streams/orders", new StringContent(batch, Encoding.UTF8, "application/x-ndjson"));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}\ningest:\n{ingest.Output}");
        }

        using var remote = await RemoteCatalog.OpenAsync(new Uri(catalog.BaseAddress, "iceberg"));
        deadline = DateTime.UtcNow.AddSeconds(120);
        List<long> ids = [];
        while (ids.Count < total)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the table holds {ids.Count} of {total} records after 120 s.\nworker:\n{worker.Output}\ncatalog:\n{catalog.Output}");
            await toWorker.PostAsync("api/v1/pipelines/orders_pipeline/flush", null);
            if (await remote.TryLoadTableAsync(new TableIdentifier(["shop"], "orders")) is { } table)
                ids = await Reads(table).CurrentDuckDbIdsAsync();
            if (ids.Count < total)
                await Task.Delay(200);
        }
        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), ids);
    }

    [Fact]
    public async Task A_flush_on_the_catalog_process_or_sent_to_an_ingest_process_commits_what_the_worker_has_read_and_answers_504_while_no_worker_runs()
    {
        var topic = $"visits-{Guid.NewGuid():N}";
        await kafka.CreateTopicAsync(topic, 4);
        Produce(topic, 0, 1_000);
        var catalog = await _roles.StartCatalogAsync();
        var ingest = await _roles.StartIngestAsync("ingest");
        using var http = new HttpClient { BaseAddress = catalog.BaseAddress, Timeout = TimeSpan.FromMinutes(6) };
        // The ingest process runs no pipeline: a flush sent to it is made by the catalog process, and answered as it answers.
        using var toIngest = new HttpClient { BaseAddress = ingest.BaseAddress, Timeout = TimeSpan.FromMinutes(6) };
        var config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        await PostAsync(http, "api/v1/streams", $$"""
            {"name": "visits", "key": "page", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "page", "type": "string"}]},
             "source": {"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{topic}}", "config": {{config}}, "produce": true } }
            """);
        // Rolls only by a flush: a commit of every record is the flush's doing.
        await PostAsync(http, "api/v1/sinks", """{"name": "visits_table", "type": "iceberg", "namespace": "web", "table": "visits", "rolling": {"interval_seconds": 86400}}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "visits_pipeline", "sql": "INSERT INTO visits_table SELECT * FROM visits"}""");

        foreach (var to in new[] { http, toIngest })
        {
            var bad = await to.PostAsync("api/v1/pipelines/visits_pipeline/flush?timeout_seconds=soon", null);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("'soon'", await bad.Content.ReadAsStringAsync());
            // No worker runs the pipeline: nothing commits, and the wait is bounded.
            var none = await to.PostAsync("api/v1/pipelines/visits_pipeline/flush?timeout_seconds=1", null);
            var noneBody = await none.Content.ReadAsStringAsync();
            Assert.True(none.StatusCode == HttpStatusCode.GatewayTimeout, $"{to.BaseAddress}: {(int)none.StatusCode} {noneBody}");
            Assert.Contains("committed nothing of", noneBody);
            Assert.Contains("sink 'visits_table' partition ", noneBody);
        }

        var worker = await _roles.StartWorkerAsync("worker");
        using var remote = await RemoteCatalog.OpenAsync(new Uri(catalog.BaseAddress, "iceberg"));
        await FlushAsync(http, catalog, worker);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), await Reads((await remote.TryLoadTableAsync(new TableIdentifier(["web"], "visits")))!).CurrentDuckDbIdsAsync());

        // More records while the worker runs: the catalog's flush, asked through the ingest process, answers once the table
        // holds them, read back at once.
        Produce(topic, 1_000, 1_500);
        using var flushed = JsonDocument.Parse(await FlushAsync(toIngest, catalog, worker));
        var partitions = flushed.RootElement.GetProperty("sinks")[0].GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(1_500, partitions.Sum(p => p.GetProperty("high_watermark").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(p.GetProperty("high_watermark").GetInt64(), p.GetProperty("committed").GetInt64()));
        Assert.Equal(Enumerable.Range(0, 1_500).Select(i => (long)i), await Reads((await remote.TryLoadTableAsync(new TableIdentifier(["web"], "visits")))!).CurrentDuckDbIdsAsync());
        Assert.Contains("flushed as the catalog process asked", worker.Output);
    }

    private void Produce(string topic, int from, int to)
    {
        using var producer = new ProducerBuilder<string, string>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
        for (int i = from; i < to; i++)
            producer.Produce(topic, new Message<string, string> { Key = $"/p{i % 13}", Value = $$"""{"id": {{i}}, "page": "/p{{i % 13}}"}""" });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private static async Task<string> FlushAsync(HttpClient http, DataPlaneProcess catalog, DataPlaneProcess worker)
    {
        var answer = await http.PostAsync("api/v1/pipelines/visits_pipeline/flush?timeout_seconds=300", null);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{(int)answer.StatusCode} {body}\nworker:\n{worker.Output}\ncatalog:\n{catalog.Output}");
        return body;
    }

    /// <summary>DuckDB's reads of the table's snapshots (duplicates kept).</summary>
    private SnapshotReads Reads(Table table) => new(table, Path.Combine(_roles.WorkingDirectory, "fetched"));

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 calls only the former on a test class, and the processes must not outlive the test
    public async Task DisposeAsync()
    {
        await _roles.DisposeAsync();
        try { Directory.Delete(_roles.WorkingDirectory, recursive: true); } catch (IOException) { }
    }
}
