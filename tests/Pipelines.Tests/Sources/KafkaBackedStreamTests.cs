using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>
/// Streams whose records live in a Kafka topic (<c>"produce": true</c>) on a real broker of their own (this class stops
/// and starts it): <c>POST /streams/{name}</c> produces each record as its JSON to the partition Kafka's Java clients
/// would pick for its key, answers 200 only once the broker has them, and 503 with Retry-After while it is down; a
/// pipeline reads the topic into an Iceberg table exactly once, resuming each partition from the table's offsets.
/// </summary>
public sealed class KafkaBackedStreamTests(OwnKafkaFixture kafka) : IClassFixture<OwnKafkaFixture>, IAsyncLifetime
{
    internal const int Partitions = 4;
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-backed-").FullName;
    private readonly string _topic = $"orders-{Guid.NewGuid():N}";
    private PipelinesHost? _host;

    public async Task InitializeAsync()
    {
        await CreateTopicAsync(kafka, _topic);
        _host = await PipelinesHost.StartAsync(_dir);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private HttpClient Http => _host!.Client;

    internal static Task CreateTopicAsync(KafkaFixture kafka, string topic) => kafka.CreateTopicAsync(topic, Partitions);

    internal static string LegacyConfig(KafkaFixture kafka) =>
        kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";

    internal static string StreamJson(KafkaFixture kafka, string topic, string key = "user", string format = "json") => $$$"""
        {"name": "orders", "key": "{{{key}}}", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}, {"name": "amount", "type": "double"}]},
         "source": {"type": "kafka", "bootstrap_servers": "{{{kafka.BootstrapServers}}}", "topic": "{{{topic}}}", "produce": true, "format": "{{{format}}}", "config": {{{LegacyConfig(kafka)}}}}}
        """;

    internal static string Record(long id) => string.Create(CultureInfo.InvariantCulture, $$"""{"id":{{id}},"user":"u{{id % 37}}","amount":{{id}}.5}""");

    internal static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    internal static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient http, string path, string body)
    {
        var response = await http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    internal static string Batch(long from, int count) => "[" + string.Join(",", Enumerable.Range(0, count).Select(i => Record(from + i))) + "]";

    /// <summary>Every message of the topic: partition, key as text, value as text; <paramref name="expected"/> counts
    /// messages, or with <paramref name="lines"/> the records of ndjson messages (their lines).</summary>
    internal static List<(int Partition, string? Key, string Value)> ReadTopic(KafkaFixture kafka, string topic, int expected, bool lines = false)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(kafka.ConsumerConfig($"check-{Guid.NewGuid():N}")).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var messages = new List<(int, string?, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int read = 0;
        while (read < expected && DateTime.UtcNow < deadline)
        {
            var m = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (m is null)
                continue;
            read += lines ? m.Message.Value.Count(b => b == (byte)'\n') + 1 : 1;
            messages.Add((m.Partition.Value, m.Message.Key is null ? null : Encoding.UTF8.GetString(m.Message.Key), Encoding.UTF8.GetString(m.Message.Value)));
        }
        // Anything past the expected count would be a duplicate: look a little longer.
        while (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } extra)
            messages.Add((extra.Partition.Value, extra.Message.Key is null ? null : Encoding.UTF8.GetString(extra.Message.Key), Encoding.UTF8.GetString(extra.Message.Value)));
        return messages;
    }

    [Fact]
    public void The_tests_murmur2_is_the_one_of_Kafkas_Java_clients()
    {
        // Vectors of Kafka's own UtilsTest.testMurmur2.
        Assert.Equal(-973932308, Murmur2.Hash("21"u8));
        Assert.Equal(-790332482, Murmur2.Hash("foobar"u8));
        Assert.Equal(-985981536, Murmur2.Hash("a-little-bit-long-string"u8));
        Assert.Equal(-1486304829, Murmur2.Hash("a-little-bit-longer-string"u8));
        Assert.Equal(-58897971, Murmur2.Hash("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"u8));
        Assert.Equal(479470107, Murmur2.Hash("abc"u8));
    }

    [Fact]
    public async Task Posted_records_are_in_the_topic_as_JSON_in_the_partition_of_their_key()
    {
        var (status, created, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic));
        Assert.True(status == HttpStatusCode.Created, created.ToString());
        Assert.Equal("/streams/orders", created.GetProperty("endpoint").GetString());
        Assert.Equal("user", created.GetProperty("key").GetString());
        Assert.True(created.GetProperty("source").GetProperty("produce").GetBoolean());

        const int total = 600;
        for (int from = 0; from < total; from += 200)
        {
            var (posted, body, _) = await PostAsync(Http, "streams/orders", Batch(from, 200));
            Assert.True(posted == HttpStatusCode.OK, body.ToString());
            Assert.Equal(200, body.GetProperty("accepted").GetInt32());
        }
        // NDJSON too, and a record with the key null: no key, any partition.
        var (ndjson, _, _) = await PostAsync(Http, "streams/orders", Record(total) + "\n" + """{"id": 601, "user": null}""" + "\n");
        Assert.Equal(HttpStatusCode.OK, ndjson);

        var messages = ReadTopic(kafka, _topic, total + 2);
        Assert.Equal(total + 2, messages.Count);
        for (int id = 0; id <= total; id++)
        {
            var m = Assert.Single(messages, m => JsonDocument.Parse(m.Value).RootElement.GetProperty("id").GetInt64() == id);
            Assert.Equal(Record(id), m.Value); // the record's JSON as sent
            string key = "u" + (id % 37).ToString(CultureInfo.InvariantCulture);
            Assert.Equal(key, m.Key);
            Assert.Equal(Murmur2.Partition(Encoding.UTF8.GetBytes(key), Partitions), m.Partition);
        }
        Assert.Null(Assert.Single(messages, m => m.Value.Contains("601")).Key);
        Assert.True(messages.Select(m => m.Partition).Distinct().Count() > 1, "the keys spread over the partitions");

        // Nothing goes through the local log.
        var stream = JsonDocument.Parse(await Http.GetStringAsync("api/v1/streams/orders")).RootElement;
        Assert.Equal(0, stream.GetProperty("log").GetProperty("end_offset").GetInt64());
    }

    [Fact]
    public async Task In_the_ndjson_format_a_requests_records_are_a_few_messages_a_line_each_in_the_partition_of_their_key()
    {
        var (status, created, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic, format: "ndjson"));
        Assert.True(status == HttpStatusCode.Created, created.ToString());
        Assert.Equal("ndjson", created.GetProperty("source").GetProperty("format").GetString());

        const int total = 3000;
        for (int from = 0; from < total; from += 1000)
        {
            var (posted, body, _) = await PostAsync(Http, "streams/orders", Batch(from, 1000));
            Assert.True(posted == HttpStatusCode.OK, body.ToString());
            Assert.Equal(1000, body.GetProperty("accepted").GetInt32());
        }
        // A pretty-printed record (line breaks between its tokens) is still one line; a record without a key goes anywhere.
        var (pretty, _, _) = await PostAsync(Http, "streams/orders", "{\n  \"id\": 3000,\n  \"user\": \"u3\"\r\n}\n{\"id\": 3001, \"user\": null}\n");
        Assert.Equal(HttpStatusCode.OK, pretty);

        // Each request is at most a message per partition (its records are far under the message size).
        var messages = ReadTopic(kafka, _topic, total + 2, lines: true);
        Assert.InRange(messages.Count, 4, 3 * Partitions + 2);
        Assert.All(messages, m => Assert.Null(m.Key));
        var lines = messages.SelectMany(m => m.Value.Split('\n').Select(line => (m.Partition, Line: line))).ToList();
        Assert.Equal(total + 2, lines.Count);
        for (int id = 0; id < total; id++)
        {
            var line = Assert.Single(lines, l => l.Line == Record(id)); // the record's JSON as sent, a line of its own
            Assert.Equal(Murmur2.Partition(Encoding.UTF8.GetBytes("u" + (id % 37).ToString(CultureInfo.InvariantCulture)), Partitions), line.Partition);
        }
        var prettyLine = Assert.Single(lines, l => l.Line.Contains("3000"));
        Assert.Equal("{   \"id\": 3000,   \"user\": \"u3\"  }", prettyLine.Line);
        Assert.Equal(Murmur2.Partition("u3"u8, Partitions), prettyLine.Partition);
        Assert.Single(lines, l => l.Line.Contains("3001"));
        Assert.True(lines.Select(l => l.Partition).Distinct().Count() > 1, "the keys spread over the partitions");
    }

    [Fact]
    public async Task The_ndjson_format_is_refused_for_a_topic_copied_into_the_log_and_an_unknown_format_is_named()
    {
        var (status, body, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic, format: "ndjson").Replace("\"produce\": true, ", ""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"ndjson\"", body.GetProperty("error").GetString());
        (status, body, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic, format: "avro"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'avro'", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("nope", "names no field")]
    [InlineData("amount", "type double")]
    public async Task A_key_that_is_not_a_string_or_integer_field_of_the_schema_is_refused_naming_it(string key, string reason)
    {
        var (status, body, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic, key));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error").GetString()!;
        Assert.Contains($"\"{key}\"", error);
        Assert.Contains(reason, error);
    }

    [Fact]
    public async Task A_key_or_produce_that_does_not_fit_is_refused_naming_the_value()
    {
        // A key without a Kafka-backed stream, and a "produce" that is not a boolean.
        var (status, body, _) = await PostAsync(Http, "api/v1/streams", """{"name": "local", "key": "id", "schema": {"fields": [{"name": "id", "type": "long"}]}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"id\"", body.GetProperty("error").GetString());
        (status, body, _) = await PostAsync(Http, "api/v1/streams", StreamJson(kafka, _topic).Replace("\"produce\": true", "\"produce\": \"yes\""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("\"yes\"", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("ndjson")]
    public async Task A_stopped_broker_gives_503_with_Retry_After_and_what_was_acknowledged_is_all_there_after_it_is_back(string format)
    {
        await CreateStreamAndPipelineAsync(format);
        var (before, _, _) = await PostAsync(Http, "streams/orders", Batch(0, 100));
        Assert.Equal(HttpStatusCode.OK, before);

        await kafka.StopBrokerAsync();
        try
        {
            var (down, body, response) = await PostAsync(Http, "streams/orders", Batch(100, 100));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Contains(_topic, body.GetProperty("error").GetString());
        }
        finally
        {
            await kafka.StartBrokerAsync();
        }

        // The client retries what was refused until it is acknowledged.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        HttpStatusCode retried;
        while ((retried = (await PostAsync(Http, "streams/orders", Batch(100, 100))).Status) != HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, retried);
            Assert.True(DateTime.UtcNow < deadline, "the broker was back but requests kept failing for 120 s");
            await Task.Delay(500);
        }
        var messages = ReadTopic(kafka, _topic, 200, lines: true);
        var ids = messages.SelectMany(m => m.Value.Split('\n')).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i).ToHashSet(), ids.ToHashSet());
        // The pipeline kept reading through the broker's absence: the table holds the topic's messages, each once (a record
        // the refused request did store is in the topic twice after the retry, and so in the table).
        Assert.Equal(new long[] { ids.Count, 200, ids.Sum() }, await FlushAndReadAsync());
    }

    [Fact]
    public async Task Expiring_snapshots_keeps_each_partitions_resume_position_when_the_newest_commit_names_only_some_partitions()
    {
        await CreateStreamAndPipelineAsync();
        await PostOkAsync(0, 1000);
        Assert.Equal(Expected(Enumerable.Range(0, 1000).Select(i => (long)i)), await FlushAndReadAsync());
        var ends = await CommittedEndsAsync();

        using (var other = await Sinks.OutsideWriter.OpenAsync(Http.BaseAddress!, Storage.ObjectStore.Open(Path.Combine(_dir, "warehouse")), "shop", "orders"))
        {
            // Another worker of the group committed partition 0 alone (nothing new in it), then another writer committed:
            // the newest commit of the sink names partition 0 only, and only the pipeline's older one names 1 to 3.
            var ours = other.Table.Metadata.CurrentSnapshotId!.Value;
            await other.Table.AppendAsync([], new Dictionary<string, string>
            {
                ["dataplane.sink"] = "orders_table", ["dataplane.stream"] = "orders", ["dataplane.start-offset"] = "0", ["dataplane.end-offset"] = "0",
                ["dataplane.kafka.topic"] = _topic, ["dataplane.kafka.partitions"] = "4",
                ["dataplane.kafka.offsets"] = string.Create(CultureInfo.InvariantCulture, $"0:{ends[0]}-{ends[0]}"),
            });
            await other.Table.AppendAsync([], new Dictionary<string, string>());
            var expired = await new Iceberg.Maintenance.ExpireSnapshots(other.Table).RunAsync(new Iceberg.Maintenance.ExpireSnapshots.Options { OlderThan = DateTimeOffset.UtcNow.AddMinutes(10), RetainLast = 1 });
            Assert.Contains(ours, expired.ExpiredSnapshots);
        }

        // The pipeline's next commit still finds each partition where it left it: nothing is read twice, nothing skipped.
        await PostOkAsync(1000, 1000);
        Assert.Equal(Expected(Enumerable.Range(0, 2000).Select(i => (long)i)), await FlushAndReadAsync());
        Assert.DoesNotContain(_host!.Logs.Lines, l => l.Contains("another writer committed it since", StringComparison.Ordinal));
        var highs = HighWatermarks();
        Assert.Equal(Enumerable.Range(0, Partitions).ToDictionary(p => p, p => highs[p]), await CommittedEndsAsync());
    }

    private const string SinkJson = """{"name": "orders_table", "type": "iceberg", "namespace": "shop", "table": "orders", "rolling": {"interval_seconds": 3600}}""";
    private const string PipelineJson = """{"name": "orders_pipeline", "sql": "INSERT INTO orders_table SELECT * FROM orders"}""";

    private async Task CreateStreamAndPipelineAsync(string format = "json")
    {
        foreach (var (path, body) in new[] { ("api/v1/streams", StreamJson(kafka, _topic, format: format)), ("api/v1/sinks", SinkJson), ("api/v1/pipelines", PipelineJson) })
        {
            var (status, answer, _) = await PostAsync(Http, path, body);
            Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
        }
    }

    private async Task PostOkAsync(long from, int count)
    {
        var (status, body, _) = await PostAsync(Http, "streams/orders", Batch(from, count));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
    }

    /// <summary>Flushes the pipeline, then count(*), count(DISTINCT id), sum(id) of the table's live files, read by DuckDB.</summary>
    private async Task<long[]> FlushAndReadAsync()
    {
        var (status, body, _) = await PostAsync(Http, "api/v1/pipelines/orders_pipeline/flush", "");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "shop.orders"));
        return [.. TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT coalesce(sum(id), 0)::BIGINT FROM rows")];
    }

    private static long[] Expected(IEnumerable<long> ids)
    {
        var list = ids.ToList();
        return [list.Count, list.Count, list.Sum()];
    }

    /// <summary>Each partition's high watermark, asked of the broker by a client of the test's own.</summary>
    private long[] HighWatermarks()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig($"check-{Guid.NewGuid():N}")).SetLogHandler((_, _) => { }).Build();
        return [.. Enumerable.Range(0, Partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(_topic, p), TimeSpan.FromSeconds(10)).High.Value)];
    }

    /// <summary>The offsets the newest snapshot's summary names, per partition (end).</summary>
    private async Task<Dictionary<int, long>> CommittedEndsAsync()
    {
        var table = await TableContents.LoadAsync(_dir, "shop.orders");
        var summary = table.Metadata.Snapshot(table.Metadata.CurrentSnapshotId!.Value)!.Summary;
        Assert.Equal(_topic, summary["dataplane.kafka.topic"]);
        Assert.Equal("4", summary["dataplane.kafka.partitions"]);
        return summary["dataplane.kafka.offsets"].Split(',').Select(e => e.Split(':', '-')).ToDictionary(e => int.Parse(e[0], CultureInfo.InvariantCulture), e => long.Parse(e[2], CultureInfo.InvariantCulture));
    }

    private void ProduceDirectly(long from, int count)
    {
        using var producer = new ProducerBuilder<string, string>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
        for (long id = from; id < from + count; id++)
            producer.Produce(_topic, new Message<string, string> { Key = "u" + (id % 37).ToString(CultureInfo.InvariantCulture), Value = Record(id) });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("ndjson")]
    public async Task Records_posted_land_once_in_the_table_and_a_restart_resumes_each_partition_from_the_tables_offsets_not_the_groups(string format)
    {
        // ndjson: the posted records go as a few messages of many lines, the other producer's as one record each.
        await CreateStreamAndPipelineAsync(format);
        for (int from = 0; from < 3000; from += 1000)
            await PostOkAsync(from, 1000);
        Assert.Equal(Expected(Enumerable.Range(0, 3000).Select(i => (long)i)), await FlushAndReadAsync());
        // The snapshot names every partition's offsets, up to what the broker holds.
        var ends = await CommittedEndsAsync();
        var highs = HighWatermarks();
        Assert.Equal(Enumerable.Range(0, Partitions).ToDictionary(p => p, p => highs[p]), ends);

        // Read but not committed when the server stops; then more records reach the topic from another producer while it is down.
        await PostOkAsync(3000, 1000);
        // Offsets count messages (an ndjson message holds many records): read up to every partition's high watermark.
        long topicEnd = HighWatermarks().Sum();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement.GetProperty("offsets").GetProperty("read").GetInt64() < topicEnd)
        {
            Assert.True(DateTime.UtcNow < deadline, "the pipeline did not read the 4,000 records within 60 s");
            await Task.Delay(100);
        }
        await _host!.DisposeAsync();
        _host = null;
        // The group's committed offsets say "start over": the pipeline must not believe them.
        using (var rewind = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig("dataplane.pipeline.orders_pipeline")).SetLogHandler((_, _) => { }).Build())
            rewind.Commit(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(_topic, p, 0)));
        ProduceDirectly(4000, 1000);

        _host = await PipelinesHost.StartAsync(_dir);
        Assert.Equal(Expected(Enumerable.Range(0, 5000).Select(i => (long)i)), await FlushAndReadAsync());
        highs = HighWatermarks();
        Assert.Equal(Enumerable.Range(0, Partitions).ToDictionary(p => p, p => highs[p]), await CommittedEndsAsync());
    }

    [Fact]
    public async Task A_commit_is_refused_when_another_writer_committed_one_of_its_partitions_since_and_the_run_starts_over_from_the_table()
    {
        await CreateStreamAndPipelineAsync();
        await PostOkAsync(0, 1000);
        Assert.Equal(Expected(Enumerable.Range(0, 1000).Select(i => (long)i)), await FlushAndReadAsync());
        var ends = await CommittedEndsAsync();
        await PostOkAsync(1000, 1000);
        var highs = HighWatermarks();

        // Another worker of the group took partition 0 over and committed its new messages (with no files here: they are its business).
        using (var other = await Sinks.OutsideWriter.OpenAsync(Http.BaseAddress!, Storage.ObjectStore.Open(Path.Combine(_dir, "warehouse")), "shop", "orders"))
            await other.Table.AppendAsync([], new Dictionary<string, string>
            {
                ["dataplane.sink"] = "orders_table", ["dataplane.stream"] = "orders", ["dataplane.start-offset"] = "0", ["dataplane.end-offset"] = "0",
                ["dataplane.kafka.topic"] = _topic, ["dataplane.kafka.partitions"] = "4",
                ["dataplane.kafka.offsets"] = string.Create(CultureInfo.InvariantCulture, $"0:{ends[0]}-{highs[0]}"),
            });

        // The pipeline's commit of partitions 0-3 is refused; it starts over from the table: partition 0 from the other
        // worker's offset, the others from its own last commit. Nothing of the refused roll is in the table.
        var inPartition0 = Enumerable.Range(1000, 1000).Where(i => Murmur2.Partition(Encoding.UTF8.GetBytes("u" + (i % 37).ToString(CultureInfo.InvariantCulture)), Partitions) == 0).ToHashSet();
        Assert.NotEmpty(inPartition0);
        Assert.Equal(Expected(Enumerable.Range(0, 2000).Where(i => !inPartition0.Contains(i)).Select(i => (long)i)), await FlushAndReadAsync());
        Assert.Contains(_host!.Logs.Lines, l => l.Contains("another writer committed it since", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, Partitions).ToDictionary(p => p, p => highs[p]), await CommittedEndsAsync());
    }

    /// <summary>The partitions a worker's pipeline reads now, from its <c>GET /api/v1/pipelines/{name}</c> (lag per partition).</summary>
    internal static async Task<List<int>> AssignedAsync(HttpClient http)
    {
        var pipeline = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement;
        return [.. pipeline.GetProperty("lag").GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("partition").GetInt32())];
    }

    [Fact]
    public async Task Two_workers_share_the_partitions_as_one_group_and_the_table_holds_each_record_once_when_one_leaves()
    {
        await CreateStreamAndPipelineAsync();
        // A second worker: the same pipeline in another host, committing through the first's REST catalog to the warehouse they share.
        var other = await PipelinesHost.StartAsync(Path.Combine(_dir, "other"), remoteCatalog: new Uri(Http.BaseAddress!, "iceberg"), warehouse: Path.Combine(_dir, "warehouse"));
        try
        {
            foreach (var (path, body) in new[] { ("api/v1/streams", StreamJson(kafka, _topic)), ("api/v1/sinks", SinkJson), ("api/v1/pipelines", PipelineJson) })
            {
                var (status, answer, _) = await PostAsync(other.Client, path, body);
                Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
            }
            // Wait for the group to give each worker its share: together all four partitions, each once.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            List<int> mine, theirs;
            while ((mine = await AssignedAsync(Http)).Count == 0 || (theirs = await AssignedAsync(other.Client)).Count == 0 || mine.Count + theirs.Count != Partitions)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the two workers did not share the {Partitions} partitions within 90 s\n{string.Join('\n', _host!.Logs.Lines)}");
                await Task.Delay(200);
            }
            Assert.Equal(Enumerable.Range(0, Partitions), mine.Concat(theirs).Order());

            for (int from = 0; from < 2000; from += 500)
                await PostOkAsync(from, 500);
            var (flushed, flushBody, _) = await PostAsync(other.Client, "api/v1/pipelines/orders_pipeline/flush", "");
            Assert.True(flushed == HttpStatusCode.OK, flushBody.ToString());
            Assert.Equal(Expected(Enumerable.Range(0, 2000).Select(i => (long)i)), await FlushAndReadAsync());
            // Each worker's commits name its own partitions only, and the table's offsets end every partition at its high watermark.
            var table = await TableContents.LoadAsync(_dir, "shop.orders");
            var named = table.Metadata.Snapshots.Select(s => s.Summary.GetValueOrDefault("dataplane.kafka.offsets")).OfType<string>()
                .Select(o => o.Split(',').Select(e => int.Parse(e[..e.IndexOf(':')], CultureInfo.InvariantCulture)).Order().ToList()).ToList();
            Assert.Contains(named, n => n.SequenceEqual(mine));
            Assert.Contains(named, n => n.SequenceEqual(theirs));
            Assert.DoesNotContain(named, n => n.Count == Partitions);

            // Records the other worker has read but not committed when it leaves: the first takes its partitions over from
            // the table's offsets, and each record is in the table once.
            await PostOkAsync(2000, 1000);
            var highs = HighWatermarks();
            deadline = DateTime.UtcNow.AddSeconds(60);
            while (!JsonDocument.Parse(await other.Client.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement.GetProperty("lag").GetProperty("partitions")
                       .EnumerateArray().All(p => p.GetProperty("next_offset").GetInt64() == highs[p.GetProperty("partition").GetInt32()]))
            {
                Assert.True(DateTime.UtcNow < deadline, "the other worker did not read its partitions' new records within 60 s");
                await Task.Delay(100);
            }
        }
        finally
        {
            await other.DisposeAsync();
        }
        var until = DateTime.UtcNow.AddSeconds(90);
        while ((await AssignedAsync(Http)).Count != Partitions)
        {
            Assert.True(DateTime.UtcNow < until, "the remaining worker did not get every partition within 90 s");
            await Task.Delay(200);
        }
        Assert.Equal(Expected(Enumerable.Range(0, 3000).Select(i => (long)i)), await FlushAndReadAsync());
        var ends = HighWatermarks();
        var lag = JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement.GetProperty("lag");
        Assert.Equal(0, lag.GetProperty("records").GetInt64());
        Assert.Equal(Enumerable.Range(0, Partitions).Select(p => ends[p]), lag.GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("high_watermark").GetInt64()));
        var metrics = await Http.GetStringAsync("metrics");
        Assert.Contains("dataplane_pipeline_kafka_lag_records{otel_scope_name=\"DataPlane.Pipelines\",partition=\"3\",pipeline=\"orders_pipeline\"} 0", metrics);
    }

    [Fact]
    public async Task A_pipeline_whose_state_does_not_follow_the_stream_key_runs_on_the_one_worker_given_partition_0_which_reads_every_partition_and_another_takes_it_over()
    {
        const string Sink = """{"name": "counts_table", "type": "iceberg", "namespace": "shop", "table": "counts", "rolling": {"interval_seconds": 3600}}""";
        // Counted over every user together: the state does not split by the stream's key.
        const string Pipeline = """{"name": "orders_pipeline", "sql": "INSERT INTO counts_table SELECT window_start, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' HOUR)"}""";
        var other = await PipelinesHost.StartAsync(Path.Combine(_dir, "other"), remoteCatalog: new Uri(Http.BaseAddress!, "iceberg"), warehouse: Path.Combine(_dir, "warehouse"));
        try
        {
            foreach (var http in new[] { Http, other.Client })
                foreach (var (path, body) in new[] { ("api/v1/streams", StreamJson(kafka, _topic)), ("api/v1/sinks", Sink), ("api/v1/pipelines", Pipeline) })
                {
                    var (status, answer, _) = await PostAsync(http, path, body);
                    Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
                }
            // Both workers are in the group (each was given partitions), and one of them reads all four.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!(await AssignedAsync(Http) is var mine && await AssignedAsync(other.Client) is var theirs
                     && mine.Concat(theirs).Order().SequenceEqual(Enumerable.Range(0, Partitions)) && (mine.Count == 0 || theirs.Count == 0)
                     && _host!.Logs.Lines.Concat(other.Logs.Lines).Count(l => l.Contains("keeps state", StringComparison.Ordinal)) >= 2
                     && _host!.Logs.Lines.Concat(other.Logs.Lines).Any(l => l.Contains("it is idle here", StringComparison.Ordinal))))
            {
                Assert.True(DateTime.UtcNow < deadline, $"one worker did not read every partition with the other idle within 90 s\n{string.Join('\n', _host!.Logs.Lines)}");
                await Task.Delay(200);
            }
            bool first = (await AssignedAsync(Http)).Count == Partitions;
            var plan = JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/orders_pipeline")).RootElement.GetProperty("scale_out").GetString();
            Assert.Equal("runs on one worker: its aggregate has no GROUP BY key but the window, so it counts records of every user together", plan);
            await PostOkAsync(0, 1000);
            var (flushed, flushBody, _) = await PostAsync(first ? Http : other.Client, "api/v1/pipelines/orders_pipeline/flush", "");
            Assert.True(flushed == HttpStatusCode.OK, flushBody.ToString());
            // Its commit names every partition, with the checkpoint of the windows for all of them.
            var table = await TableContents.LoadAsync(_dir, "shop.counts");
            var summary = table.Metadata.Snapshot(table.Metadata.CurrentSnapshotId!.Value)!.Summary;
            Assert.Equal(Partitions, summary["dataplane.kafka.offsets"].Split(',').Length);
            Assert.True(summary.ContainsKey("dataplane.checkpoint"), string.Join(", ", summary.Keys));
            // The worker running it stops it (deleted there; the first host also serves the catalog, so it stays up): the
            // other is given partition 0 and takes it over.
            var remaining = first ? other.Client : Http;
            Assert.Equal(HttpStatusCode.NoContent, (await (first ? Http : other.Client).DeleteAsync("api/v1/pipelines/orders_pipeline")).StatusCode);
            deadline = DateTime.UtcNow.AddSeconds(90);
            while ((await AssignedAsync(remaining)).Count != Partitions)
            {
                Assert.True(DateTime.UtcNow < deadline, "the remaining worker did not take the pipeline with state over within 90 s");
                await Task.Delay(200);
            }
        }
        finally
        {
            await other.DisposeAsync();
        }
    }
}
