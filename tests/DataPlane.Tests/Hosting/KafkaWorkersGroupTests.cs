using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// Separate <c>dataplane serve</c> processes on a broker of the class's own (one test stops it) and a warehouse on the S3
/// server: records sent over HTTP to two <c>ingest</c> processes for a Kafka-backed stream of 4 partitions, read by
/// <c>worker</c> processes that share the partitions as one consumer group and commit into one table through the
/// <c>catalog</c> process, their files in the S3 bucket. A worker joining mid-run (a rebalance), a worker killed with
/// SIGKILL, and the broker restarted: DuckDB and icebird read every acknowledged record exactly once from the bucket.
/// <c>DATAPLANE_TEST_GROUP_RECORDS</c> sets how many records (the issue's run: 1,000,000).
/// </summary>
public sealed class KafkaWorkersGroupTests(OwnKafkaFixture kafka, S3ServerFixture s3, ITestOutputHelper output)
    : IClassFixture<OwnKafkaFixture>, IClassFixture<S3ServerFixture>, IAsyncLifetime
{
    private const int Partitions = 4;
    private const int BatchSize = 1000;
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-group-").FullName;
    private readonly string _topic = $"orders-{Guid.NewGuid():N}";
    private RoleProcesses? _roles;
    private DataPlaneProcess? _catalog;
    private readonly List<HttpClient> _ingest = [];
    private RemoteCatalog? _remote;
    private SnapshotReads? _reads;

    private static int Records => int.TryParse(Environment.GetEnvironmentVariable("DATAPLANE_TEST_GROUP_RECORDS"), out var n) && n > 0 ? n : 24_000;

    [Fact]
    public async Task Two_workers_with_one_joining_mid_run_and_one_killed_commit_every_acknowledged_record_once()
    {
        int total = Records;
        var started = Stopwatch.StartNew();
        await StartAsync();
        var first = await StartWorkerAsync("worker1");
        await WaitForPartitionsAsync(first, Partitions);

        // A third of the records, then a second worker joins: the group rebalances and both wait for their share.
        int sent = await SendAsync(0, total / 3);
        var second = await StartWorkerAsync("worker2");
        await WaitForShareAsync(first, second);
        sent += await SendAsync(sent, total / 3);

        // The first worker killed mid-run, after it has committed its share at least once (and read more since).
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (await PipelineAsync(first) is var p && p.GetProperty("last_commit").ValueKind == JsonValueKind.Null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"worker1 did not commit within 120 s\n{Logs(first)}");
            await Task.Delay(200);
        }
        await first.KillAsync();
        sent += await SendAsync(sent, total - sent);
        await WaitForPartitionsAsync(second, Partitions);

        var ids = await FlushUntilAsync(second, total);
        output.WriteLine($"{total:N0} records through 2 ingest and 2 worker processes in {started.Elapsed.TotalSeconds:N1} s");
        AssertEachOnce(Enumerable.Range(0, total).Select(i => (long)i), ids);
        await AssertIcebirdAsync(Enumerable.Range(0, total).Select(i => (long)i));
    }

    [Fact]
    public async Task Workers_lose_and_duplicate_nothing_when_the_broker_restarts_mid_run()
    {
        int total = Math.Max(Records / 3, 6 * BatchSize);
        var started = Stopwatch.StartNew();
        await StartAsync();
        var first = await StartWorkerAsync("worker1");
        var second = await StartWorkerAsync("worker2");
        await WaitForShareAsync(first, second);
        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: the processes run and the workers share the partitions");
        var acknowledged = new List<long>();
        int next = await SendAsync(0, total / 2);
        acknowledged.AddRange(Enumerable.Range(0, next).Select(i => (long)i));

        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: {next:N0} records sent; the broker stops");
        await kafka.StopBrokerAsync();
        try
        {
            // While it is down the ingest processes refuse records (503), and nothing refused counts as acknowledged.
            var refused = await _ingest[0].PostAsync("streams/orders", new StringContent(Ndjson(next, BatchSize), Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        finally
        {
            await kafka.StartBrokerAsync();
        }
        // The client sends the refused batch again, then the rest, retrying each 503 until the broker takes it.
        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: the broker runs again");
        int rest = await SendAsync(next, total - next, retryUnavailable: true);
        acknowledged.AddRange(Enumerable.Range(next, rest).Select(i => (long)i));
        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: {total:N0} records sent");

        // Each message of the topic once (a record of the refused request the broker did store is there twice, and so in
        // the table), and every acknowledged record among them.
        var topic = ReadTopicIds();
        Assert.Subset(topic.ToHashSet(), acknowledged.ToHashSet());
        var ids = await FlushUntilAsync(first, topic.Count, second);
        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: the table holds every record");
        AssertEachOnce(topic, ids);
        await AssertIcebirdAsync(topic);
        output.WriteLine($"{started.Elapsed.TotalSeconds:N1} s: icebird read them");
    }

    private async Task StartAsync()
    {
        await CreateTopicAsync();
        _roles = new RoleProcesses(_workDir, s3.Server, await s3.CreateBucketAsync("group"));
        _catalog = await _roles.StartCatalogAsync();
        // The test reads the bucket with the server's endpoint and keys, as the workers write it.
        _remote = RemoteCatalog.Connect(new Uri(_catalog.BaseAddress, "iceberg"), storage: _roles.S3);
        using var http = new HttpClient { BaseAddress = _catalog.BaseAddress };
        var config = kafka.IsLegacyBroker ? """{"api.version.request": "false", "broker.version.fallback": "0.9.0.1"}""" : "{}";
        await PostAsync(http, "api/v1/streams", $$"""
            {"name": "orders", "key": "user", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]},
             "source": {"type": "kafka", "bootstrap_servers": "{{kafka.BootstrapServers}}", "topic": "{{_topic}}", "config": {{config}}, "produce": true } }
            """);
        await PostAsync(http, "api/v1/sinks", """{"name": "orders_table", "type": "iceberg", "namespace": "shop", "table": "orders", "rolling": {"interval_seconds": 1}}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "orders_pipeline", "sql": "INSERT INTO orders_table SELECT * FROM orders"}""");
        foreach (var name in new[] { "ingest1", "ingest2" })
        {
            var ingest = await _roles.StartIngestAsync(name);
            var client = new HttpClient { BaseAddress = ingest.BaseAddress };
            _ingest.Add(client);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await client.GetAsync("api/v1/streams/orders")).StatusCode != HttpStatusCode.OK)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{name} did not hold stream 'orders' within 60 s\n{ingest.Output}");
                await Task.Delay(100);
            }
        }
    }

    private Task<DataPlaneProcess> StartWorkerAsync(string name) => _roles!.StartWorkerAsync(name);

    private async Task CreateTopicAsync()
    {
        if (kafka.IsLegacyBroker)
        {
            // The 0.9 broker has no CreateTopics; a metadata request auto-creates it with num.partitions = 4 (scripts/test-services/kafka.sh).
            using var producer = new ProducerBuilder<Null, Null>(kafka.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (admin.GetMetadata(_topic, TimeSpan.FromSeconds(5)).Topics.FirstOrDefault(t => t.Topic == _topic) is not { } t
                   || t.Error.IsError || t.Partitions.Count != Partitions || t.Partitions.Any(p => p.Leader < 0))
            {
                Assert.True(DateTime.UtcNow < deadline, $"topic {_topic} was not created with {Partitions} partitions within 60 s");
                await Task.Delay(200);
            }
            return;
        }
        using var client = new AdminClientBuilder(kafka.Apply(new AdminClientConfig())).Build();
        await client.CreateTopicsAsync([new TopicSpecification { Name = _topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
    }

    private static string Ndjson(int from, int count) =>
        string.Join('\n', Enumerable.Range(from, count).Select(i => string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{i}}, "user": "u{{i % 101}}"}""")));

    /// <summary>Sends ids [from, from + count) in batches, alternately to the two ingest processes; answers how many were
    /// acknowledged (all: a refusal fails the test, or with <paramref name="retryUnavailable"/> is sent again until taken).</summary>
    private async Task<int> SendAsync(int from, int count, bool retryUnavailable = false)
    {
        for (int first = from; first < from + count; first += BatchSize)
        {
            int n = Math.Min(BatchSize, from + count - first);
            var deadline = DateTime.UtcNow.AddSeconds(180);
            while (true)
            {
                var answer = await _ingest[first / BatchSize % 2].PostAsync("streams/orders", new StringContent(Ndjson(first, n), Encoding.UTF8, "application/x-ndjson"));
                if (answer.StatusCode == HttpStatusCode.OK)
                    break;
                Assert.True(retryUnavailable && answer.StatusCode == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline,
                    $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
                await Task.Delay(500);
            }
        }
        return count;
    }

    private static async Task<JsonElement> PipelineAsync(DataPlaneProcess worker)
    {
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };
        var response = await http.GetAsync("api/v1/pipelines/orders_pipeline");
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : default;
    }

    /// <summary>The partitions a worker reads now, from the lag per partition its pipeline reports.</summary>
    private static async Task<List<int>> AssignedAsync(DataPlaneProcess worker) =>
        await PipelineAsync(worker) is { ValueKind: JsonValueKind.Object } p && p.GetProperty("lag").TryGetProperty("partitions", out var partitions)
            ? [.. partitions.EnumerateArray().Select(e => e.GetProperty("partition").GetInt32())]
            : [];

    private async Task WaitForPartitionsAsync(DataPlaneProcess worker, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while ((await AssignedAsync(worker)).Count != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the worker did not read {count} partitions within 120 s\n{Logs(worker)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits for the group to give each of the two workers a share, together every partition once.</summary>
    private async Task WaitForShareAsync(DataPlaneProcess a, DataPlaneProcess b)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var (mine, theirs) = (await AssignedAsync(a), await AssignedAsync(b));
            if (mine.Count > 0 && theirs.Count > 0 && mine.Concat(theirs).Order().SequenceEqual(Enumerable.Range(0, Partitions)))
                return;
            Assert.True(DateTime.UtcNow < deadline, $"the workers did not share the partitions within 120 s ({mine.Count} and {theirs.Count})\n{Logs(a)}\n{Logs(b)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Flushes the workers until the table holds <paramref name="expected"/> records (or more: a duplicate), then
    /// answers its ids as DuckDB reads them from the bucket (sorted, duplicates kept).</summary>
    private async Task<List<long>> FlushUntilAsync(DataPlaneProcess worker, int expected, DataPlaneProcess? other = null)
    {
        // Generous, and longer for a larger run (DATAPLANE_TEST_GROUP_RECORDS).
        var limit = TimeSpan.FromSeconds(240 + expected / 2_000);
        var deadline = DateTime.UtcNow + limit;
        List<long> ids = [];
        while (true)
        {
            foreach (var w in other is null ? [worker] : new[] { worker, other })
            {
                using var http = new HttpClient { BaseAddress = w.BaseAddress, Timeout = TimeSpan.FromSeconds(100) };
                try { await http.PostAsync("api/v1/pipelines/orders_pipeline/flush", null); } catch (TaskCanceledException) { }
            }
            if (_reads is null && await _remote!.TryLoadTableAsync(new TableIdentifier(["shop"], "orders")) is { } table)
                _reads = new SnapshotReads(table, Path.Combine(_workDir, "fetched"), new Uri(s3.Endpoint)); // keeps the files it fetched for the next round
            if (_reads is not null)
                ids = await _reads.CurrentDuckDbIdsAsync();
            if (ids.Count >= expected)
                return ids;
            Assert.True(DateTime.UtcNow < deadline, $"the table holds {ids.Count} of {expected} records after {limit.TotalSeconds:N0} s\n{Logs(worker)}");
            await Task.Delay(500);
        }
    }

    private static void AssertEachOnce(IEnumerable<long> expected, List<long> ids)
    {
        var want = expected.Order().ToList();
        var duplicates = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(duplicates.Count == 0, $"duplicated ids, e.g. {string.Join(", ", duplicates)}");
        Assert.Equal(want.Count, ids.Count);
        Assert.True(want.SequenceEqual(ids), $"the table's ids differ from those expected, e.g. missing {string.Join(", ", want.Except(ids).Take(10))}");
    }

    /// <summary>icebird reads the table's current snapshot from the bucket, through the S3 server's endpoint: each expected id once.</summary>
    private async Task AssertIcebirdAsync(IEnumerable<long> expected)
    {
        var table = await _remote!.LoadTableAsync(new TableIdentifier(["shop"], "orders"));
        var current = table.Metadata.CurrentSnapshotId!.Value;
        Assert.StartsWith(_roles!.Warehouse + "/", table.Metadata.Location);
        var reads = new SnapshotReads(table, Path.Combine(_workDir, "fetched"), new Uri(s3.Endpoint));
        var (ids, error) = (await reads.IcebirdIdsAsync([current]))[current];
        Assert.True(error is null, error);
        AssertEachOnce(expected, ids!);
    }

    /// <summary>The id of every message in the topic, read by a client of the test's own.</summary>
    private List<long> ReadTopicIds()
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(kafka.ConsumerConfig($"check-{Guid.NewGuid():N}")).SetLogHandler((_, _) => { }).Build();
        var highs = Enumerable.Range(0, Partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(_topic, p), TimeSpan.FromSeconds(30)).High.Value).ToArray();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(_topic, p, Offset.Beginning)));
        var read = new long[Partitions];
        var ids = new List<long>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (Enumerable.Range(0, Partitions).Any(p => read[p] < highs[p]))
        {
            Assert.True(DateTime.UtcNow < deadline, "the test's consumer did not read the topic to its high watermarks within 120 s");
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { } m)
                continue;
            read[m.Partition.Value] = m.Offset.Value + 1;
            ids.Add(JsonDocument.Parse(m.Message.Value).RootElement.GetProperty("id").GetInt64());
        }
        return ids;
    }

    private static string Logs(DataPlaneProcess process) => process.Output.Length > 20_000 ? process.Output[^20_000..] : process.Output;

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 calls only the former on a test class, and the processes must not outlive the test
    public async Task DisposeAsync()
    {
        foreach (var client in _ingest)
            client.Dispose();
        _remote?.Dispose();
        if (_roles is not null)
            await _roles.DisposeAsync();
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
