using System.Globalization;
using System.Net;
using System.Text;
using Confluent.Kafka;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Operations;
using DataPlane.TestServices;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// A worker process (<c>--role worker</c>) runs a pipeline made through its management API and commits through the catalog
/// process's REST catalog into the warehouse they share: the table is the catalog process's, and DuckDB reads every record once.
/// </summary>
public sealed class WorkerCommitsThroughCatalogTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-worker-").FullName;

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
        var warehouse = Path.Combine(_workDir, "catalog", "warehouse");
        var catalogPort = DataPlaneProcess.FreePort();
        await using var catalog = await DataPlaneProcess.StartServerAsync(_workDir, catalogPort, ["serve", "--role", "catalog", "--port", catalogPort.ToString(), "--data", "catalog"]);
        var workerPort = DataPlaneProcess.FreePort();
        await using var worker = await DataPlaneProcess.StartServerAsync(_workDir, workerPort,
            ["serve", "--role", "worker", "--port", workerPort.ToString(), "--data", "worker", "--catalog", catalog.BaseAddress.ToString(), "--warehouse", warehouse]);
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
                ids = await DuckDbIdsAsync(table);
            if (ids.Count < total)
                await Task.Delay(200);
        }

        Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i), ids);
        Assert.StartsWith(Path.GetFullPath(warehouse), new Uri((await remote.TryLoadTableAsync(new TableIdentifier(["web"], "clicks")))!.Metadata.Location).LocalPath);
        Assert.False(File.Exists(Path.Combine(_workDir, "worker", "catalog", "catalog.db")), "the worker keeps no catalog of its own");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("iceberg/v1/namespaces/web/tables/clicks")).StatusCode);
    }

    /// <summary>Every id in the table's current snapshot, as DuckDB reads its data files (duplicates kept), in order.</summary>
    private static async Task<List<long>> DuckDbIdsAsync(Table table)
    {
        var files = (await table.NewScan().PlanFilesAsync()).Select(t => new Uri(t.File.FilePath).LocalPath).ToList();
        if (files.Count == 0)
            return [];
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var query = duck.CreateCommand();
        query.CommandText = $"SELECT id FROM read_parquet([{string.Join(", ", files.Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'"))}]) ORDER BY id";
        using var reader = query.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
            ids.Add(Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
        return ids;
    }

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
