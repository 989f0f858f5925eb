using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Operations;
using DataPlane.Storage;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;
using Table = DataPlane.Iceberg.Operations.Table;

namespace DataPlane.Tests.Maintenance;

/// <summary>
/// The "done when" of table maintenance: a table fed by a running pipeline with a 1 s roll (over a thousand small files,
/// 40 partitions) is compacted, its manifests merged and its snapshots expired by the scheduler of a real
/// <c>dataplane serve</c> while ingestion goes on, with the warehouse in the local folder and on an S3 server. Afterwards
/// DuckDB over the live files and icebird read exactly the acknowledged records, the file count is near the total size
/// over the target, and a tagged snapshot taken mid-way still reads what it read then. And the server killed with SIGKILL
/// while compactions run resumes its pipeline exactly once.
/// </summary>
public sealed class MaintenanceUnderIngestionTests(S3ServerFixture s3, ITestOutputHelper output) : IClassFixture<S3ServerFixture>, IDisposable
{
    private const int IngestSeconds = 30;
    private const int Partitions = 40;
    private const long TargetFileBytes = 32 * 1024;

    private readonly string _dir = Directory.CreateTempSubdirectory("maintenance-ingest-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();
    private readonly ConcurrentDictionary<long, bool> _acknowledged = new();
    private readonly ConcurrentDictionary<long, bool> _unknown = new();

    private sealed record Warehouse(string Location, S3Options? S3, Dictionary<string, string> Environment);

    private Warehouse Local() => new(Path.Combine(_dir, "data", "warehouse"), null, []);

    private async Task<Warehouse> S3Async()
    {
        var bucket = await s3.CreateBucketAsync("maintenance");
        return new Warehouse($"s3://{bucket}/warehouse", new S3Options { Endpoint = s3.Endpoint, AccessKey = s3.AccessKey, SecretKey = s3.SecretKey, Region = s3.Region },
            new Dictionary<string, string>
            {
                ["DATAPLANE_WAREHOUSE"] = $"s3://{bucket}/warehouse",
                ["DATAPLANE_S3__ENDPOINT"] = s3.Endpoint,
                ["DATAPLANE_S3__ACCESSKEY"] = s3.AccessKey,
                ["DATAPLANE_S3__SECRETKEY"] = s3.SecretKey,
                ["DATAPLANE_S3__REGION"] = s3.Region,
            });
    }

    private Task<DataPlaneProcess> ServeAsync(Warehouse warehouse)
    {
        var environment = new Dictionary<string, string>(warehouse.Environment) { ["DATAPLANE_MAINTENANCE__CHECKSECONDS"] = "1" };
        return DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", "data", "--log-format", "simple"], environment);
    }

    [Fact]
    public Task Compaction_and_expiry_during_ingestion_on_the_local_folder_keep_exactly_the_acknowledged_records() => CompactWhileIngestingAsync(Local());

    [Fact]
    public async Task Compaction_and_expiry_during_ingestion_on_s3_keep_exactly_the_acknowledged_records() => await CompactWhileIngestingAsync(await S3Async());

    private async Task CompactWhileIngestingAsync(Warehouse warehouse)
    {
        await using var server = await ServeAsync(warehouse);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var store = ObjectStore.Open(warehouse.Location, warehouse.S3);
        // icebird reads over HTTP: the S3 server's, or one serving the local warehouse.
        using var files = warehouse.S3 is null ? new HttpFileServer(warehouse.Location) : null;
        try
        {
            var outside = await SetUpAsync(http, store, Partitions);
            using var client = outside.Client;
            var table = outside.Table;
            var reads = new SnapshotReads(table, Path.Combine(_dir, "fetched"), warehouse.S3 is null ? null : new Uri(s3.Endpoint), files);

            using var stop = new CancellationTokenSource();
            var ingest = Task.Run(() => IngestLoopAsync(http, stop.Token));
            await Task.Delay(TimeSpan.FromSeconds(IngestSeconds / 2));
            // Mid-way: a tag, and what its snapshot reads now.
            await table.RefreshAsync();
            var tagged = table.Metadata.CurrentSnapshotId!.Value;
            await table.CreateTagAsync("mid");
            var taggedIds = await reads.DuckDbIdsAsync(tagged);
            var taggedAt = DateTimeOffset.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(IngestSeconds / 2));
            // Records keep coming until the scheduler has compacted twice and expired once, however busy the machine
            // (a fixed ingestion time measured the machine's load, not the scheduler).
            var during = new List<JsonElement>();
            int Count(string job) => during.Count(r => r.GetProperty("job").GetString() == job && r.GetProperty("outcome").GetString() == "succeeded");
            var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
            while (true)
            {
                during = (await Send(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK)).GetProperty("runs").EnumerateArray()
                    .Where(r => r.GetProperty("state").GetString() == "finished").ToList();
                if ((Count("compact") >= 2 && Count("expire-snapshots") >= 1) || DateTimeOffset.UtcNow > deadline || ingest.IsCompleted)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            stop.Cancel();
            await ingest;
            await Send(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK);

            // The scheduler worked while records came in.
            output.WriteLine($"during ingestion: {Count("compact")} compactions, {Count("expire-snapshots")} expiries, {Count("rewrite-manifests")} manifest rewrites; " +
                $"{_acknowledged.Count} records acknowledged, {_unknown.Count} unknown");
            Assert.True(Count("compact") >= 2, $"compactions during ingestion: {Count("compact")}");
            Assert.True(Count("expire-snapshots") >= 1, $"expiries during ingestion: {Count("expire-snapshots")}");

            // The scheduler is switched off, so that nothing expires what is being read below; then by hand, the last
            // small files of each partition, and the history before them.
            await Send(http, HttpMethod.Put, Maintenance, """{"enabled": false}""", HttpStatusCode.OK);
            await WaitIdleAsync(http);
            await RunAsync(http, """{"jobs": ["compact"], "min_input_files": 1}""");
            await RunAsync(http, """{"jobs": ["expire-snapshots"]}""");
            await table.RefreshAsync();
            var current = table.Metadata.CurrentSnapshotId!.Value;
            var snapshots = await reads.EverySnapshotAsync(icebirdSnapshots: [current, tagged]);
            AssertExactlyAcknowledged(snapshots[current]);
            Assert.Equal(taggedIds, snapshots[tagged]); // time travel to a retained snapshot
            // Expired by age (5 s): of the first half's history only the tagged snapshot is left.
            var oldest = table.Metadata.Snapshots.Where(x => x.SnapshotId != tagged).Min(x => x.TimestampMs);
            Assert.True(oldest > taggedAt.ToUnixTimeMilliseconds(), $"a snapshot of {DateTimeOffset.FromUnixTimeMilliseconds(oldest):O} outlived expiry, from before the tag at {taggedAt:O}");

            var live = await table.NewScan().PlanFilesAsync();
            var total = live.Sum(f => f.File.FileSizeInBytes);
            output.WriteLine($"{live.Count} data files, {total} bytes, target {TargetFileBytes}; {table.Metadata.Snapshots.Count} snapshots");
            // Near total/target: a file of three quarters of the target or more is done (compaction leaves it, as Iceberg's
            // bin-packing does), and a partition's last file holds its remainder, so at most one more per partition.
            Assert.InRange(live.Count, total / TargetFileBytes / 2, (long)Math.Ceiling(total / (TargetFileBytes * 0.75)) + Partitions);
        }
        catch
        {
            output.WriteLine(string.Join('\n', server.Output.Split('\n').TakeLast(60)));
            throw;
        }
    }

    [Fact]
    public async Task Killed_with_sigkill_while_compactions_run_the_pipeline_resumes_exactly_once()
    {
        var warehouse = Local();
        var server = await ServeAsync(warehouse);
        using var store = ObjectStore.Open(warehouse.Location);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var kills = 0;
        try
        {
            var outside = await SetUpAsync(http, store, 8);
            using var client = outside.Client;
            using var stop = new CancellationTokenSource();
            var ingest = Task.Run(() => IngestLoopAsync(http, stop.Token));
            var random = new Random(7);
            for (int i = 0; i < 3; i++)
            {
                // A compaction at work (rewriting or committing), then a SIGKILL at a random moment of it.
                await WaitForRunningCompactionAsync(http);
                await Task.Delay(random.Next(0, 150));
                await server.KillAsync();
                kills++;
                await server.DisposeAsync();
                server = await ServeAsync(warehouse);
            }
            await Task.Delay(3000);
            stop.Cancel();
            await ingest;
            await RetryAsync(() => Send(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK));
            // The scheduler is switched off, so that nothing expires the snapshots being read below.
            await Send(http, HttpMethod.Put, Maintenance, """{"enabled": false}""", HttpStatusCode.OK);
            await WaitIdleAsync(http);
            await RunAsync(http, """{"jobs": ["compact"], "min_input_files": 1}""");

            var table = outside.Table;
            await table.RefreshAsync();
            var current = table.Metadata.CurrentSnapshotId!.Value;
            var files = new HttpFileServer(warehouse.Location);
            try
            {
                var snapshots = await new SnapshotReads(table, Path.Combine(_dir, "fetched"), files: files).EverySnapshotAsync(icebirdSnapshots: [current]);
                AssertExactlyAcknowledged(snapshots[current]);
            }
            finally
            {
                files.Dispose();
            }
            output.WriteLine($"{kills} kills; {_acknowledged.Count} records acknowledged, {_unknown.Count} unknown; {table.Metadata.Snapshots.Count} snapshots");
        }
        catch
        {
            output.WriteLine(string.Join('\n', server.Output.Split('\n').TakeLast(60)));
            throw;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_pipelines_last_commit_outlives_the_expiry_of_its_snapshot_and_the_restarted_server_resumes_exactly_once()
    {
        var warehouse = Local();
        var server = await ServeAsync(warehouse);
        using var store = ObjectStore.Open(warehouse.Location);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var outside = await SetUpAsync(http, store, 4);
            using var client = outside.Client;
            var table = outside.Table;
            // The scheduler stays out of it: the expiry below is the one under test.
            await Send(http, HttpMethod.Put, Maintenance, """{"enabled": false}""", HttpStatusCode.OK);
            await WaitIdleAsync(http);
            await IngestAsync(http, [.. Enumerable.Range(0, 500).Select(i => (long)i)]);
            foreach (var id in Enumerable.Range(0, 500)) _acknowledged[id] = true;
            await Send(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK);
            await table.RefreshAsync();
            var pipelineCommit = table.Metadata.CurrentSnapshotId!.Value;
            Assert.Equal("t", table.Metadata.CurrentSnapshot!.Summary[CommitHistory.WriterKey]);

            // Another writer commits many snapshots on top, then expiry keeps only the newest: the pipeline's is gone.
            for (int i = 0; i < 20; i++)
            {
                long first = 1_000_000 + i * 10;
                var batch = new RecordBatch(ArrowSchemaMapping.ToArrow(table.Schema),
                [
                    new Int64Array.Builder().AppendRange(Enumerable.Range(0, 10).Select(r => first + r)).Build(),
                    new StringArray.Builder().AppendRange(Enumerable.Range(0, 10).Select(r => "outside")).Build(),
                ], 10);
                await TableBatches.AppendAsync(table, [batch]);
                foreach (var r in Enumerable.Range(0, 10)) _acknowledged[first + r] = true;
            }
            await RunAsync(http, $$"""{"jobs": ["expire-snapshots"], "retain_last": 1, "older_than": "{{DateTimeOffset.UtcNow.AddMinutes(1):O}}"}""");
            await table.RefreshAsync();
            Assert.Single(table.Metadata.Snapshots);
            Assert.Null(table.Metadata.Snapshot(pipelineCommit));

            // Killed, started again: the pipeline finds its last commit through what expiry left, not from its log's start.
            await server.KillAsync();
            await server.DisposeAsync();
            server = await ServeAsync(warehouse);
            await IngestAsync(http, [.. Enumerable.Range(500, 500).Select(i => (long)i)]);
            foreach (var id in Enumerable.Range(500, 500)) _acknowledged[id] = true;
            await RetryAsync(() => Send(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK));

            await table.RefreshAsync();
            var current = table.Metadata.CurrentSnapshotId!.Value;
            using var files = new HttpFileServer(warehouse.Location);
            var snapshots = await new SnapshotReads(table, Path.Combine(_dir, "fetched"), files: files).EverySnapshotAsync(icebirdSnapshots: [current]);
            AssertExactlyAcknowledged(snapshots[current]);
        }
        catch
        {
            output.WriteLine(string.Join('\n', server.Output.Split('\n').TakeLast(60)));
            throw;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private const string Maintenance = "api/v1/tables/default/events/maintenance";

    /// <summary>The stream, the sink (1 s roll), the pipeline, a first commit, and the table's maintenance properties set
    /// by an outside writer through the REST catalog: a 32 KiB target (so compaction makes several files a partition),
    /// snapshots kept 5 s, manifests merged past 20.</summary>
    private async Task<(IcebergRestClient Client, Table Table)> SetUpAsync(HttpClient http, IObjectStore store, int partitions)
    {
        await Send(http, HttpMethod.Post, "api/v1/streams", """{"name":"events","schema":{"fields":[{"name":"id","type":"long","required":true},{"name":"user","type":"string"}]}}""", HttpStatusCode.Created);
        await Send(http, HttpMethod.Post, "api/v1/sinks", $$$"""{"name":"t","type":"iceberg","namespace":"default","table":"events","partition":["bucket({{{partitions}}}, id)"],"rolling":{"interval_seconds":1}}""", HttpStatusCode.Created);
        await Send(http, HttpMethod.Post, "api/v1/pipelines", """{"name":"p","sql":"INSERT INTO t SELECT * FROM events"}""", HttpStatusCode.Created);
        await IngestAsync(http, [-1]);
        await Send(http, HttpMethod.Post, "api/v1/pipelines/p/flush", null, HttpStatusCode.OK);
        var client = new IcebergRestClient(new Uri(http.BaseAddress!, "iceberg"));
        await client.InitializeAsync();
        var table = await Table.LoadAsync(store, new RestTableCommitter(client, ["default"], "events"));
        await table.SetPropertiesAsync(new Dictionary<string, string>
        {
            ["write.target-file-size-bytes"] = TargetFileBytes.ToString(CultureInfo.InvariantCulture),
            ["history.expire.max-snapshot-age-ms"] = "5000",
            ["dataplane.maintenance.rewrite-manifests.min-manifests"] = "20",
        });
        return (client, table);
    }

    private long _nextId;

    private async Task IngestLoopAsync(HttpClient http, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var first = Interlocked.Add(ref _nextId, 100) - 100;
            var ids = Enumerable.Range(0, 100).Select(i => first + i).ToArray();
            bool ok = false;
            try
            {
                await IngestAsync(http, ids);
                ok = true;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException)
            {
            }
            foreach (var id in ids) (ok ? _acknowledged : _unknown)[id] = true;
            await Task.Delay(ok ? 20 : 200, CancellationToken.None);
        }
    }

    private async Task IngestAsync(HttpClient http, long[] ids)
    {
        // A user that compresses little, so each partition holds several target sizes of data.
        var body = string.Concat(ids.Select(id => string.Create(CultureInfo.InvariantCulture, $$"""{"id":{{id}},"user":"u{{unchecked((ulong)id * 0x9E3779B97F4A7C15UL):x16}}"}""") + "\n"));
        using var response = await http.PostAsync("streams/events", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        if (ids is [-1]) _acknowledged[-1] = true;
    }

    /// <summary>Every acknowledged record once, and nothing that was never sent (a request whose answer was lost may be either).</summary>
    private void AssertExactlyAcknowledged(List<long> ids)
    {
        var present = ids.ToHashSet();
        Assert.True(ids.Count == present.Count, $"{ids.Count - present.Count} duplicated records, e.g. {string.Join(", ", ids.GroupBy(i => i).Where(g => g.Count() > 1).Take(5).Select(g => g.Key))}");
        var missing = _acknowledged.Keys.Where(id => !present.Contains(id)).Order().ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged records are missing, e.g. {string.Join(", ", missing.Take(10))}");
        var unexpected = present.Where(id => !_acknowledged.ContainsKey(id) && !_unknown.ContainsKey(id)).Order().ToList();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} records were never sent, e.g. {string.Join(", ", unexpected.Take(10))}");
    }

    /// <summary>Queues runs by hand and waits for each to finish successfully (or with nothing to do).</summary>
    private static async Task RunAsync(HttpClient http, string body)
    {
        var queued = await RetryAsync(() => Send(http, HttpMethod.Post, Maintenance + "/run", body, HttpStatusCode.Accepted));
        foreach (var run in queued.GetProperty("runs").EnumerateArray())
        {
            var id = run.GetProperty("id").GetString();
            var deadline = DateTime.UtcNow.AddMinutes(3);
            JsonElement status;
            do
            {
                await Task.Delay(100);
                status = await Send(http, HttpMethod.Get, $"{Maintenance}/runs/{id}", null, HttpStatusCode.OK);
            }
            while (status.GetProperty("state").GetString() != "finished" && DateTime.UtcNow < deadline);
            Assert.True(status.GetProperty("outcome").GetString() is "succeeded" or "nothing-to-do", status.ToString());
        }
    }

    /// <summary>Waits until the table has no run queued or running.</summary>
    private static async Task WaitIdleAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var status = await Send(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);
            if (status.GetProperty("runs").EnumerateArray().All(r => r.GetProperty("state").GetString() == "finished"))
                return;
            await Task.Delay(100);
        }
        Assert.Fail("maintenance runs still queued or running after 3 minutes");
    }

    private static async Task WaitForRunningCompactionAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await Send(http, HttpMethod.Get, Maintenance, null, HttpStatusCode.OK);
                if (status.GetProperty("runs").EnumerateArray().Any(r => r.GetProperty("job").GetString() == "compact" && r.GetProperty("state").GetString() == "running"))
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException)
            {
                // the table may not be there yet, or the server still starting
            }
            await Task.Delay(10);
        }
        Assert.Fail("no compaction ran within 90 s");
    }

    private static async Task<JsonElement> Send(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Retries what a restart may interrupt, for up to a minute.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
