using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>
/// The event-time watermark of a stream a real Kafka topic feeds advances per partition: a partition behind another
/// holds it back (its records are on time), and one quiet past the idle timeout stops holding it back.
/// </summary>
public sealed class KafkaSourceWatermarkTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-watermark-").FullName;
    private readonly string _topic = $"clicks-{Guid.NewGuid():N}";
    private PipelinesHost? _host;
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public async Task InitializeAsync()
    {
        if (!kafka.IsLegacyBroker) // the 0.9 broker auto-creates topics with 4 partitions (scripts/test-services/kafka.sh)
        {
            using var admin = new AdminClientBuilder(kafka.Apply(new AdminClientConfig())).Build();
            await admin.CreateTopicsAsync([new TopicSpecification { Name = _topic, NumPartitions = 2, ReplicationFactor = 1 }]);
        }
        _host = await PipelinesHost.StartAsync(_dir);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private HttpClient Http => _host!.Client;

    private async Task PostAsync(string path, string body, HttpStatusCode expected)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Produces to one partition a record per second of event time, then waits until the stream's log holds them.</summary>
    private async Task ProduceAsync(int partition, int fromSecond, int toSecond)
    {
        using (var producer = new ProducerBuilder<Null, string>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build())
        {
            for (int s = fromSecond; s <= toSecond; s++)
                producer.Produce(new TopicPartition(_topic, new Partition(partition)), new Message<Null, string>
                {
                    Value = string.Create(CultureInfo.InvariantCulture, $$"""{"p": {{partition}}, "ts": "{{T0.AddSeconds(s):yyyy-MM-ddTHH:mm:ss}}"}"""),
                });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        _produced += toSecond - fromSecond + 1;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var stream = JsonDocument.Parse(await Http.GetStringAsync("api/v1/streams/clicks")).RootElement;
            if (stream.GetProperty("log").GetProperty("end_offset").GetInt64() >= _produced)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for {_produced} records in the log: {stream}");
            await Task.Delay(50);
        }
    }

    private long _produced;

    private async Task<List<string>> WindowsAsync()
    {
        await PostAsync("api/v1/pipelines/windows/flush", "", HttpStatusCode.OK);
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "web.windows"));
        return files.Count == 0 ? [] : TableContents.Rows(
            $"SELECT strftime(window_start, '%M:%S'), n FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    [Fact]
    public async Task A_partition_behind_another_holds_the_watermark_back_until_it_is_idle_past_its_timeout()
    {
        await PostAsync("api/v1/streams", $$$"""
            {"name": "clicks", "schema": {"fields": [{"name": "p", "type": "int"}, {"name": "ts", "type": "timestamp"}]},
             "source": {"type": "kafka", "bootstrap_servers": "{{{kafka.BootstrapServers}}}", "topic": "{{{_topic}}}",
                        "config": {{{(kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}")}}}}}
            """, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "windows", "type": "iceberg", "namespace": "web", "table": "windows", "rolling": {"interval_seconds": 1}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """
            {"name": "windows", "sql": "WATERMARK FOR clicks.ts AS ts IDLE TIMEOUT INTERVAL '10' SECOND; INSERT INTO windows SELECT window_start, count(*) AS n FROM clicks GROUP BY tumble(INTERVAL '10' SECOND)"}
            """, HttpStatusCode.Created);

        // Partition 1 starts at 00:00, partition 0 runs ahead to 01:39, then partition 1 catches up to 00:50: on time, as
        // partition 1's watermark was 00:00 (one watermark for the whole stream would have been 01:39 and dropped them).
        // (Partition 1 is quiet between its two batches for far less than its idle timeout.)
        await ProduceAsync(1, 0, 0);
        await ProduceAsync(0, 0, 99);
        await ProduceAsync(1, 5, 50);

        // Partition 1 goes quiet, partition 0 goes on: once partition 1 has been idle for 10 s, partition 0's watermark (02:10) closes the windows.
        var expected = Enumerable.Range(0, 13).Select(w => $"{w * 10 / 60:D2}:{w * 10 % 60:D2}|" +
            (10 + (w == 0 ? 6 : w <= 4 ? 10 : w == 5 ? 1 : 0)).ToString(CultureInfo.InvariantCulture)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        List<string> rows = [];
        for (int s = 100; DateTime.UtcNow < deadline; s = Math.Min(s + 1, 130))
        {
            await ProduceAsync(0, s, s);
            rows = await WindowsAsync();
            if (rows.Count >= expected.Count)
                break;
            await Task.Delay(200);
        }
        Assert.Equal(TableContents.Sorted(expected), rows.Take(expected.Count));
        var status = JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/windows")).RootElement;
        Assert.Equal(0, status.GetProperty("late_records").GetInt64());
    }
}
