using System.Globalization;
using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>
/// A flush asked of a worker of a Kafka-backed stream's pipeline while it reads every partition, answered after a second
/// worker joined and the group left it half of them: it waits for the high watermarks of the partitions the worker still
/// has, not of those another worker now reads (for which it would wait for ever).
/// </summary>
public sealed class KafkaFlushRebalanceTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IAsyncLifetime
{
    private const int Backlog = 300_000;
    private const string SinkJson = """{"name": "orders_table", "type": "iceberg", "namespace": "shop", "table": "orders", "rolling": {"interval_seconds": 3600}}""";
    private const string PipelineJson = """{"name": "orders_pipeline", "sql": "INSERT INTO orders_table SELECT * FROM orders"}""";
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-flush-").FullName;
    private readonly string _topic = $"orders-{Guid.NewGuid():N}";
    private PipelinesHost? _host;

    public async Task InitializeAsync()
    {
        await KafkaBackedStreamTests.CreateTopicAsync(kafka, _topic);
        _host = await PipelinesHost.StartAsync(_dir);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_flush_asked_before_a_rebalance_answers_once_the_worker_has_read_the_partitions_it_still_has()
    {
        // A backlog the first worker is still reading when the second joins.
        using (var producer = new ProducerBuilder<string, string>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build())
        {
            for (long id = 0; id < Backlog; id++)
            {
                var message = new Message<string, string> { Key = "u" + (id % 37).ToString(CultureInfo.InvariantCulture), Value = KafkaBackedStreamTests.Record(id) };
                while (true)
                {
                    try { producer.Produce(_topic, message); break; }
                    catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(50)); }
                }
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        var http = _host!.Client;
        await CreateAsync(http);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((await KafkaBackedStreamTests.AssignedAsync(http)).Count != KafkaBackedStreamTests.Partitions || await RecordsInAsync(http) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first worker did not start reading the four partitions within 90 s");
            await Task.Delay(50);
        }
        // Its flush notes the high watermarks of all four partitions; then the group gives it two.
        var flush = http.PostAsync("api/v1/pipelines/orders_pipeline/flush", null);
        var other = await PipelinesHost.StartAsync(Path.Combine(_dir, "other"), remoteCatalog: new Uri(http.BaseAddress!, "iceberg"), warehouse: Path.Combine(_dir, "warehouse"));
        try
        {
            await CreateAsync(other.Client);
            using var answer = await flush.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
            var (status, body, _) = await KafkaBackedStreamTests.PostAsync(other.Client, "api/v1/pipelines/orders_pipeline/flush", "");
            Assert.True(status == HttpStatusCode.OK, body.ToString());
            var (again, againBody, _) = await KafkaBackedStreamTests.PostAsync(http, "api/v1/pipelines/orders_pipeline/flush", "");
            Assert.True(again == HttpStatusCode.OK, againBody.ToString());
            var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "shop.orders"));
            Assert.Equal<long>([Backlog, Backlog, (long)Backlog * (Backlog - 1) / 2],
                TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT sum(id)::BIGINT FROM rows"));
        }
        finally
        {
            await other.DisposeAsync();
        }
    }

    private async Task CreateAsync(HttpClient http)
    {
        foreach (var (path, body) in new[] { ("api/v1/streams", KafkaBackedStreamTests.StreamJson(kafka, _topic)), ("api/v1/sinks", SinkJson), ("api/v1/pipelines", PipelineJson) })
        {
            var (status, answer, _) = await KafkaBackedStreamTests.PostAsync(http, path, body);
            Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
        }
    }

    private static async Task<long> RecordsInAsync(HttpClient http) =>
        JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement.GetProperty("records").GetProperty("in").GetInt64();
}
