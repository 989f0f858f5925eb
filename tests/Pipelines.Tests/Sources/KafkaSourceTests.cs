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
/// Streams fed by a real Kafka topic with several partitions: every valid message lands once in the Iceberg table a
/// pipeline writes, invalid ones are counted and skipped, a restart resumes from the positions in the ingest log (not
/// the consumer group's), and a full log pauses the source until a pipeline frees room.
/// </summary>
public sealed class KafkaSourceTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IAsyncLifetime
{
    private const int Partitions = 4;
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-").FullName;
    private readonly string _topic = $"clicks-{Guid.NewGuid():N}";
    private PipelinesHost? _host;

    public Task InitializeAsync() => CreateTopicAsync();

    private HttpClient Http => _host!.Client;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    private string LegacyConfig => kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";

    private async Task CreateStreamAsync() => await SendAsync(HttpMethod.Post, "api/v1/streams", StreamJson, HttpStatusCode.Created);

    private string StreamJson => $$$"""
        {"name": "clicks", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]},
         "source": {"type": "kafka", "bootstrap_servers": "{{{kafka.BootstrapServers}}}", "topic": "{{{_topic}}}", "format": "json", "config": {{{LegacyConfig}}}}}
        """;

    private const string SinkJson = """{"name": "clicks_table", "type": "iceberg", "namespace": "web", "table": "clicks", "rolling": {"interval_seconds": 1}}""";
    private const string PipelineJson = """{"name": "clicks_pipeline", "sql": "INSERT INTO clicks_table SELECT * FROM clicks"}""";

    private async Task CreatePipelineAsync()
    {
        await SendAsync(HttpMethod.Post, "api/v1/sinks", SinkJson, HttpStatusCode.Created);
        await SendAsync(HttpMethod.Post, "api/v1/pipelines", PipelineJson, HttpStatusCode.Created);
    }

    private async Task CreateTopicAsync()
    {
        if (kafka.IsLegacyBroker)
            return; // the 0.9 broker has no CreateTopics; it auto-creates topics with num.partitions = 4 (scripts/test-services/kafka.sh)
        using var admin = new AdminClientBuilder(kafka.Apply(new AdminClientConfig())).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = _topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
    }

    /// <summary>Produces values in order, keyed so they spread over the partitions; a null value is a message without one.</summary>
    private void Produce(IEnumerable<string?> values)
    {
        using var producer = new ProducerBuilder<string, string?>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
        int i = 0;
        foreach (var value in values)
            producer.Produce(_topic, new Message<string, string?> { Key = "k" + (i++).ToString(CultureInfo.InvariantCulture), Value = value });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
    }

    private static string Valid(long id) => string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "user": "u{{id % 7}}"}""");

    private async Task<JsonElement> WaitForStreamAsync(Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonElement stream;
        while (true)
        {
            stream = JsonDocument.Parse(await Http.GetStringAsync("api/v1/streams/clicks")).RootElement;
            if (done(stream))
                return stream;
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for {what}: {stream}");
            await Task.Delay(100);
        }
    }

    private static long EndOffset(JsonElement stream) => stream.GetProperty("log").GetProperty("end_offset").GetInt64();

    /// <summary>count(*), count(DISTINCT id), sum(id) of the table's live files, read by DuckDB.</summary>
    private async Task<long[]> TableAsync()
    {
        await SendAsync(HttpMethod.Post, "api/v1/pipelines/clicks_pipeline/flush", null, HttpStatusCode.OK);
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "web.clicks"));
        return [.. TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT coalesce(sum(id), 0)::BIGINT FROM rows")];
    }

    [Fact]
    public async Task Valid_messages_of_every_partition_land_once_in_the_table_and_invalid_ones_are_counted_and_shown()
    {
        const int total = 3000;
        string?[] invalid = ["""{"id": "seven"}""", "not json", """[{"id": 1}]""", """{"user": "no id"}""", null, """{"id": 1} {"id": 2}""", """{"id": 1"""];
        var values = Enumerable.Range(0, total).Select(i => i % 200 == 199 ? invalid[i / 200 % invalid.Length] : Valid(i)).ToList();
        var expected = Enumerable.Range(0, total).Where(i => i % 200 != 199).Select(i => (long)i).ToList();
        Produce(values);

        _host = await PipelinesHost.StartAsync(_dir);
        await CreateStreamAsync();
        await CreatePipelineAsync();
        var stream = await WaitForStreamAsync(s => s.GetProperty("source").GetProperty("records_in").GetInt64() >= expected.Count && s.GetProperty("source").GetProperty("invalid_records").GetInt64() >= total / 200, "every message");

        Assert.Equal(expected.Count, EndOffset(stream));
        Assert.Equal(new long[] { expected.Count, expected.Count, expected.Sum() }, await TableAsync());

        var source = stream.GetProperty("source");
        Assert.Equal("running", source.GetProperty("state").GetString());
        Assert.Equal(expected.Count, source.GetProperty("records_in").GetInt64());
        Assert.Equal(total / 200, source.GetProperty("invalid_records").GetInt64());
        var partitions = source.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(Partitions, partitions.Count);
        Assert.Equal(total, partitions.Sum(p => p.GetProperty("next_offset").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(0, p.GetProperty("lag").GetInt64()));
        var errors = source.GetProperty("recent_errors").EnumerateArray().ToList();
        Assert.Equal(total / 200, errors.Count); // all of them: the source keeps the last 20
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "id" && e.GetProperty("reason").GetString()!.Contains("required"));
        Assert.Contains(errors, e => e.GetProperty("reason").GetString()!.Contains("not a JSON object"));
        Assert.Contains(errors, e => e.GetProperty("reason").GetString()!.Contains("no value"));
        Assert.Contains(errors, e => e.GetProperty("reason").GetString()!.Contains("2 JSON values"));

        var metrics = await Http.GetStringAsync("metrics");
        Assert.Contains($"dataplane_stream_source_invalid_records_total{{otel_scope_name=\"DataPlane.Pipelines\",stream=\"clicks\"}} {total / 200}", metrics);
        Assert.Contains($"dataplane_stream_source_records_total{{otel_scope_name=\"DataPlane.Pipelines\",stream=\"clicks\"}} {expected.Count}", metrics);
        Assert.Contains("dataplane_stream_source_lag_records{otel_scope_name=\"DataPlane.Pipelines\",partition=\"0\",stream=\"clicks\"} 0", metrics);

        // The positions also reach the consumer group (for Kafka's own lag tools), though the source never reads them back.
        using (var monitor = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig("dataplane.stream.clicks")).SetLogHandler((_, _) => { }).Build())
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            long committed;
            while ((committed = monitor.Committed(Enumerable.Range(0, Partitions).Select(p => new TopicPartition(_topic, p)), TimeSpan.FromSeconds(10))
                       .Sum(c => Math.Max(0, c.Offset.Value))) < total)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the group committed {committed} of {total} positions within 30 s");
                await Task.Delay(200);
            }
            Assert.Equal(total, committed);
        }

        // The log's resume positions come from Kafka alone: HTTP ingestion into this stream is refused.
        var refused = await SendAsync(HttpMethod.Post, "streams/clicks", Valid(1), HttpStatusCode.Conflict);
        Assert.Contains(_topic, refused.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_restart_mid_topic_resumes_from_the_positions_in_the_log_without_duplicates_or_loss()
    {
        const int half = 20_000;
        // A log bound of 1 MB makes batches of at most 128 KB of JSON (about 4,000 records): the stop falls mid-topic.
        static void SmallBatches(PipelinesOptions o) { o.MaxLogBytes = 1024 * 1024; o.SegmentBytes = 128 * 1024; }
        Produce(Enumerable.Range(0, half).Select(i => Valid(i)));
        _host = await PipelinesHost.StartAsync(_dir, SmallBatches);
        await CreateStreamAsync();
        await CreatePipelineAsync();
        var stopped = await WaitForStreamAsync(s => EndOffset(s) > 0, "the first batch");
        Assert.True(EndOffset(stopped) < half, $"the first batch held every record: {stopped}");
        await _host.DisposeAsync();
        _host = null;

        // The consumer group's offsets say "start over"; the source must not believe them.
        var group = stopped.GetProperty("source").GetProperty("config").TryGetProperty("group.id", out var g) ? g.GetString()! : "dataplane.stream.clicks";
        using (var rewind = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig(group)).SetLogHandler((_, _) => { }).Build())
            rewind.Commit(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(_topic, p, 0)));
        Produce(Enumerable.Range(half, half).Select(i => Valid(i)));

        _host = await PipelinesHost.StartAsync(_dir, SmallBatches);
        var stream = await WaitForStreamAsync(s => EndOffset(s) >= 2 * half, "every message after the restart");
        long[] ids = [.. Enumerable.Range(0, 2 * half).Select(i => (long)i)];
        Assert.Equal(2 * half, EndOffset(stream));
        Assert.Equal(new long[] { ids.Length, ids.Length, ids.Sum() }, await TableAsync());
        Assert.Equal(2 * half, stream.GetProperty("source").GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("next_offset").GetInt64()));
    }

    [Fact]
    public async Task Dataplane_serve_killed_mid_topic_resumes_from_its_log_without_duplicates_or_loss()
    {
        const int first = 30_000, second = 10_000;
        int port = DataPlaneProcess.FreePort();
        Task<DataPlaneProcess> Serve() => DataPlaneProcess.StartServerAsync(_dir, port,
            ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"],
            new Dictionary<string, string> { ["DATAPLANE_PIPELINES__MAXLOGBYTES"] = "1048576", ["DATAPLANE_PIPELINES__SEGMENTBYTES"] = "131072" });
        Produce(Enumerable.Range(0, first).Select(i => Valid(i)));

        await using (var server = await Serve())
        {
            _host = null;
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var created = await http.PostAsync("api/v1/streams", Json(StreamJson));
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync() + server.Output);
            await http.PostAsync("api/v1/sinks", Json(SinkJson));
            await http.PostAsync("api/v1/pipelines", Json(PipelineJson));
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (EndOffset(JsonDocument.Parse(await http.GetStringAsync("api/v1/streams/clicks")).RootElement) == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "no batch within 90 s: " + server.Output);
                await Task.Delay(20);
            }
            await server.KillAsync(); // SIGKILL: whatever was consumed but not yet in the log is simply gone
        }
        Produce(Enumerable.Range(first, second).Select(i => Valid(i)));

        await using (var server = await Serve())
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            JsonElement stream;
            while (EndOffset(stream = JsonDocument.Parse(await http.GetStringAsync("api/v1/streams/clicks")).RootElement) < first + second)
            {
                Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for every record: {stream}\n{server.Output}");
                await Task.Delay(100);
            }
            Assert.Equal(first + second, EndOffset(stream));
            var flushed = await http.PostAsync("api/v1/pipelines/clicks_pipeline/flush", null);
            Assert.True(flushed.IsSuccessStatusCode, await flushed.Content.ReadAsStringAsync());
            var files = await TableContents.LiveFilesAsync(await TableContents.LoadThroughRestAsync(server.BaseAddress, "web.clicks"));
            long[] ids = [.. Enumerable.Range(0, first + second).Select(i => (long)i)];
            Assert.Equal(new long[] { ids.Length, ids.Length, ids.Sum() }, TableContents.Query(files,
                "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT sum(id)::BIGINT FROM rows"));
        }
    }

    [Fact]
    public async Task A_full_log_pauses_the_source_until_a_pipeline_frees_room()
    {
        const int total = 20_000;
        Produce(Enumerable.Range(0, total).Select(i => Valid(i)));
        _host = await PipelinesHost.StartAsync(_dir, o => { o.MaxLogBytes = 128 * 1024; o.SegmentBytes = 16 * 1024; });
        await CreateStreamAsync();
        var paused = await WaitForStreamAsync(s => s.GetProperty("source").GetProperty("state").GetString() == "paused", "the source to pause");
        Assert.True(EndOffset(paused) < total, $"a 128 KB log holds all {total} records: {paused}");
        Assert.Contains("dataplane_stream_source_paused{otel_scope_name=\"DataPlane.Pipelines\",stream=\"clicks\"} 1", await Http.GetStringAsync("metrics"));

        await CreatePipelineAsync();
        var stream = await WaitForStreamAsync(s => EndOffset(s) >= total, "every message once the pipeline commits");
        Assert.Equal(total, EndOffset(stream));
        Assert.Equal(new long[] { total, total, (long)total * (total - 1) / 2 }, await TableAsync());
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
