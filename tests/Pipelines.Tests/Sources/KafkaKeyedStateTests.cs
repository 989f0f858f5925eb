using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sources;

/// <summary>
/// Keyed state that follows a Kafka-backed stream's partitions, on a real broker: a tumbling window grouped by the
/// stream's key runs on every worker of the pipeline's group, each over its partitions with their state, checkpointed per
/// partition; a worker given a partition in a rebalance restores exactly that partition's state from the table's last
/// commit naming it. Two workers, one joining and leaving mid-run, give the table one worker gives, which is DuckDB's
/// batch answer. State grouped otherwise runs on one worker, and the plan says which.
/// </summary>
public sealed class KafkaKeyedStateTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IAsyncLifetime
{
    private const int Partitions = KafkaBackedStreamTests.Partitions;
    private const int Users = 37;
    /// <summary>The first id of the records that close every window at the end: one per user, a day ahead, their own windows stay open.</summary>
    private const long Closer = 1_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-kafka-keyed-").FullName;
    private readonly string _topic = $"keyed-{Guid.NewGuid():N}";
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

    private HttpClient Http => _host!.Client;

    private string StreamJson(string format = "json") => $$$"""
        {"name": "orders", "key": "user", "schema": {"fields": [
          {"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}, {"name": "amount", "type": "long"}, {"name": "ts", "type": "timestamp"}]},
         "source": {"type": "kafka", "bootstrap_servers": "{{{kafka.BootstrapServers}}}", "topic": "{{{_topic}}}", "produce": true, "format": "{{{format}}}", "config": {{{KafkaBackedStreamTests.LegacyConfig(kafka)}}}}}
        """;

    private static string SinkJson(string name) => $$$"""{"name": "{{{name}}}", "type": "iceberg", "namespace": "shop", "table": "{{{name}}}", "rolling": {"interval_seconds": 3600}}""";

    private static string PipelineJson(string name, string sink, string groupBy = "user") => $$"""
        {"name": "{{name}}", "sql": "WATERMARK FOR orders.ts AS ts - INTERVAL '1' SECOND; INSERT INTO {{sink}} SELECT window_start, {{groupBy}}, count(*) AS n, sum(amount) AS total FROM orders GROUP BY tumble(INTERVAL '1' MINUTE), {{groupBy}}"}
        """;

    /// <summary>Record id: user u(id % 37), amount id % 97, event time one second per id from 2026-01-01 (a closer's a day later).</summary>
    private static string Records(long first, int count)
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var text = new StringBuilder(count * 90);
        for (long id = first; id < first + count; id++)
        {
            var ts = id >= Closer ? t0.AddDays(1) : t0.AddSeconds(id);
            text.Append(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "user": "u{{id % Users}}", "amount": {{id % 97}}, "ts": "{{ts:yyyy-MM-ddTHH:mm:ss}}"}""").Append('\n');
        }
        return text.ToString();
    }

    private static async Task CreateAsync(HttpClient http, params (string Path, string Body)[] definitions)
    {
        foreach (var (path, body) in definitions)
        {
            var (status, answer, _) = await KafkaBackedStreamTests.PostAsync(http, path, body);
            Assert.True(status == HttpStatusCode.Created, $"{path}: {status} {answer}");
        }
    }

    private async Task PostAsync(long first, int count)
    {
        var (status, body, _) = await KafkaBackedStreamTests.PostAsync(Http, "streams/orders", Records(first, count));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
    }

    private static async Task FlushAsync(HttpClient http, string pipeline)
    {
        var (status, body, _) = await KafkaBackedStreamTests.PostAsync(http, $"api/v1/pipelines/{pipeline}/flush", "");
        Assert.True(status == HttpStatusCode.OK, $"flush of {pipeline}: {status} {body}");
    }

    private static async Task<JsonElement> PipelineAsync(HttpClient http, string pipeline) =>
        JsonDocument.Parse(await http.GetStringAsync($"api/v1/pipelines/{pipeline}")).RootElement.Clone();

    private static async Task<List<int>> AssignedAsync(HttpClient http, string pipeline) =>
        [.. (await PipelineAsync(http, pipeline)).GetProperty("lag").GetProperty("partitions").EnumerateArray().Select(p => p.GetProperty("partition").GetInt32())];

    /// <summary>Waits until the workers' shares of <paramref name="pipeline"/>'s partitions are each non-empty and together every partition once.</summary>
    private async Task<List<List<int>>> WaitForSharesAsync(string pipeline, params HttpClient[] workers)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var shares = new List<List<int>>();
            foreach (var worker in workers)
                shares.Add(await AssignedAsync(worker, pipeline));
            if (shares.All(s => s.Count > 0) && shares.SelectMany(s => s).Order().SequenceEqual(Enumerable.Range(0, Partitions)))
                return shares;
            Assert.True(DateTime.UtcNow < deadline, $"the {workers.Length} worker(s) did not share the {Partitions} partitions of {pipeline} within 90 s: " +
                $"[{string.Join("] [", shares.Select(s => string.Join(", ", s)))}]\n{string.Join('\n', _host!.Logs.Lines.TakeLast(40))}");
            await Task.Delay(200);
        }
    }

    /// <summary>The table's rows as DuckDB reads its live files: window_start|user|n|total, sorted.</summary>
    private async Task<List<string>> RowsAsync(string table)
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "shop." + table));
        Assert.NotEmpty(files);
        return TableContents.Rows($"SELECT window_start, \"user\", n, total::BIGINT FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    [Theory]
    [InlineData("json")]
    [InlineData("ndjson")] // a message per partition and request: the records of a key still share a partition
    public async Task A_keyed_window_on_two_workers_with_one_joining_and_leaving_gives_the_table_of_one_worker_and_duckdbs_batch_answer(string format)
    {
        // Pipeline "one" runs on this host alone; "two" here and, from the second batch on, on a second worker too.
        await CreateAsync(Http, ("api/v1/streams", StreamJson(format)), ("api/v1/sinks", SinkJson("one")), ("api/v1/sinks", SinkJson("two")),
            ("api/v1/pipelines", PipelineJson("one_worker", "one")), ("api/v1/pipelines", PipelineJson("two_workers", "two")));
        Assert.Equal("scales with partitions (key = user)", (await PipelineAsync(Http, "two_workers")).GetProperty("scale_out").GetString());
        await WaitForSharesAsync("one_worker", Http);
        await WaitForSharesAsync("two_workers", Http);

        // 20 minutes and a half of records, committed with each partition's open windows.
        await PostAsync(0, 1230);
        await FlushAsync(Http, "one_worker");
        await FlushAsync(Http, "two_workers");
        var table = await TableContents.LoadAsync(_dir, "shop.two");
        var summary = table.Metadata.Snapshot(table.Metadata.CurrentSnapshotId!.Value)!.Summary;
        Assert.EndsWith(".partitions/", summary["dataplane.checkpoint"]);

        // A second worker joins "two": it restores the partitions it is given from the first's commit, windows half full.
        var other = await PipelinesHost.StartAsync(Path.Combine(_dir, "other"), remoteCatalog: new Uri(Http.BaseAddress!, "iceberg"), warehouse: Path.Combine(_dir, "warehouse"));
        try
        {
            await CreateAsync(other.Client, ("api/v1/streams", StreamJson(format)), ("api/v1/sinks", SinkJson("two")), ("api/v1/pipelines", PipelineJson("two_workers", "two")));
            var shares = await WaitForSharesAsync("two_workers", Http, other.Client);
            await PostAsync(1230, 1200);
            await FlushAsync(Http, "two_workers");
            await FlushAsync(other.Client, "two_workers");
            // Each worker's commit names its own partitions, and their state in a checkpoint folder each.
            table = await TableContents.LoadAsync(_dir, "shop.two");
            var named = table.Metadata.Snapshots.Skip(1).Select(s => s.Summary["dataplane.kafka.offsets"].Split(',').Select(e => int.Parse(e[..e.IndexOf(':')], CultureInfo.InvariantCulture)).Order().ToList()).ToList();
            Assert.Contains(named, n => n.SequenceEqual(shares[0]));
            Assert.Contains(named, n => n.SequenceEqual(shares[1]));
            var last = table.Metadata.Snapshot(table.Metadata.CurrentSnapshotId!.Value)!.Summary;
            var folder = new Uri(last["dataplane.checkpoint"]).LocalPath;
            var lastNamed = last["dataplane.kafka.offsets"].Split(',').Select(e => int.Parse(e[..e.IndexOf(':')], CultureInfo.InvariantCulture)).Order();
            Assert.Equal(lastNamed.Select(p => $"partition-{p}"), Directory.GetDirectories(folder).Select(Path.GetFileName).Order());
            Assert.All(Directory.GetDirectories(folder), partition => Assert.True(File.Exists(Path.Combine(partition, "checkpoint.state")), partition));

            // Records the second worker reads and may not commit before it leaves: the first takes its partitions back from
            // the second's last commit and checkpoint.
            await PostAsync(2430, 570);
        }
        finally
        {
            await other.DisposeAsync();
        }
        await WaitForSharesAsync("two_workers", Http);
        await PostAsync(Closer, Users);
        await FlushAsync(Http, "one_worker");
        await FlushAsync(Http, "two_workers");

        var expected = TableContents.Rows("""
            SELECT time_bucket(INTERVAL 1 MINUTE, TIMESTAMP '2026-01-01' + to_seconds(id)) AS window_start, 'u' || (id % 37) AS "user", count(*) AS n, sum(id % 97)::BIGINT AS total
            FROM range(0, 3000) t(id) GROUP BY ALL
            """);
        Assert.Equal(50 * Users, expected.Count); // 3,000 seconds: 50 windows, each with every user
        var one = await RowsAsync("one");
        Assert.Equal(expected, one);
        Assert.Equal(expected, await RowsAsync("two"));
        Assert.Contains(_host!.Logs.Lines, l => l.Contains("starts over from the table", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_plan_says_whether_the_state_scales_with_the_partitions_or_runs_on_one_worker_and_why()
    {
        await CreateAsync(Http, ("api/v1/streams", StreamJson()));
        async Task<string?> ScaleOutAsync(string sql)
        {
            var (status, body, _) = await KafkaBackedStreamTests.PostAsync(Http, "api/v1/pipelines/validate", JsonSerializer.Serialize(new { sql }));
            Assert.True(status == HttpStatusCode.OK, body.ToString());
            return body.GetProperty("scale_out").GetString();
        }
        string Sql(string groupBy) => JsonDocument.Parse(PipelineJson("p", "s", groupBy)).RootElement.GetProperty("sql").GetString()!;
        Assert.Equal("scales with partitions (key = user)", await ScaleOutAsync(Sql("user")));
        Assert.Equal("scales with partitions (no keyed state)", await ScaleOutAsync("INSERT INTO s SELECT id, user FROM orders"));
        Assert.Equal("runs on one worker: GROUP BY key amount differs from the stream key user", await ScaleOutAsync(Sql("amount")));
        Assert.StartsWith("runs on one worker: its aggregate has no GROUP BY key", await ScaleOutAsync("INSERT INTO s SELECT window_start, count(*) AS n FROM orders GROUP BY tumble(INTERVAL '1' MINUTE)"));
    }
}
