using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Iceberg.Maintenance;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// An updating aggregate (GROUP BY k, no window) beside a plain copy of the ids, in a real <c>dataplane serve</c> fed
/// over HTTP and killed with SIGKILL five times at random moments (mid-roll, mid-checkpoint, mid-commit), with
/// compactions committed through the REST catalog between the pipeline's commits. Afterwards every snapshot of the
/// aggregate's table, read by DuckDB over its data files minus its equality deletes (<see cref="EqualityDeleteReads"/>),
/// holds exactly one row per key with DuckDB's batch GROUP BY over the stream's records up to that commit's offset
/// (the first records of the log, which the copy holds in order); a compaction's snapshot reads as its parent; icebird
/// reads the current one the same.
/// </summary>
public sealed class UpdatingAggregateServerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-updating-e2e-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"]);

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task SetUpAsync(HttpClient http)
    {
        await http.CreateAsync("api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "k", "type": "string"}, {"name": "v", "type": "long"}]}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "totals", "type": "iceberg", "namespace": "default", "table": "totals", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "raw", "type": "iceberg", "namespace": "default", "table": "raw", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/pipelines", JsonSerializer.Serialize(new
        {
            name = "agg",
            sql = "INSERT INTO totals SELECT k, count(*) AS n, sum(v) AS total, min(v) AS lo, max(id) AS last FROM events GROUP BY k; INSERT INTO raw SELECT id FROM events",
        }));
    }

    private static string Records(long first, int count)
    {
        var text = new StringBuilder(count * 40);
        for (long id = first; id < first + count; id++)
            text.Append(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "k": "k{{id % 7}}", "v": {{id % 13}}}""").Append('\n');
        return text.ToString();
    }

    [Fact]
    public async Task After_sigkills_and_compactions_every_commit_holds_one_row_per_key_with_the_batch_group_by_at_its_offset()
    {
        long nextId = 0;
        const int perRequest = 50;
        int compactions = 0;
        for (int kill = 0; kill < 5; kill++)
        {
            var server = await StartServerAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            if (kill == 0)
                await SetUpAsync(http);
            using var stop = new CancellationTokenSource();
            // One client, one request at a time: the log holds the records in the order of their ids.
            var client = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    long first = nextId;
                    nextId += perRequest;
                    try
                    {
                        await http.PostAsync("streams/events", Json(Records(first, perRequest)));
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        await Task.Delay(50);
                    }
                }
            });
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1500, 3000)));
            if (kill % 2 == 1)
            {
                // Another writer between the pipeline's commits: compaction of the aggregate's files, through the REST catalog.
                using var warehouse = DataPlane.Storage.ObjectStore.Open(Path.Combine(_dir, "warehouse"));
                var (rest, table) = await TableContents.WriterThroughRestAsync(server.BaseAddress, "default.totals", warehouse);
                using var restClient = rest;
                var result = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options { MinInputFiles = 2 });
                compactions += result.GroupsCommitted;
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(500, 1500)));
            }
            await server.KillAsync(); // mid-request, mid-roll, mid-checkpoint or mid-commit
            stop.Cancel();
            await client;
            await server.DisposeAsync();
        }

        await using (var final = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = final.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            var flushed = await http.PostAsync("api/v1/pipelines/agg/flush", null);
            Assert.True(flushed.StatusCode == HttpStatusCode.OK, await flushed.Content.ReadAsStringAsync());
        }

        // The log's records in order: the plain copy's ids, each once.
        var ids = TableContents.Rows($"SELECT id FROM read_parquet([{string.Join(", ", (await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "default.raw"))).Select(f => $"'{f}'"))}])")
            .Select(r => long.Parse(r, CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var totals = await TableContents.LoadAsync(_dir, "default.totals");
        const string select = "SELECT k, n, total, lo, last FROM rows";
        int commits = 0, others = 0;
        var readings = new Dictionary<long, List<string>>();
        foreach (var snapshot in totals.Metadata.Snapshots.OrderBy(s => s.SequenceNumber))
        {
            var actual = await EqualityDeleteReads.RowsAsync(totals, snapshot.SnapshotId, select);
            readings[snapshot.SnapshotId] = actual;
            if (snapshot.Summary.TryGetValue("dataplane.end-offset", out var end))
            {
                long offset = long.Parse(end, CultureInfo.InvariantCulture);
                var expected = TableContents.Rows($"""
                    SELECT 'k' || (id % 7), count(*), sum(id % 13), min(id % 13), max(id)
                    FROM (SELECT unnest([{string.Join(", ", ids.Take((int)offset))}]::BIGINT[]) AS id) GROUP BY 1
                    """);
                Assert.True(expected.SequenceEqual(actual), $"commit {snapshot.SnapshotId} at offset {offset}:\n  {string.Join("\n  ", actual)}\nexpected:\n  {string.Join("\n  ", expected)}");
                commits++;
            }
            else
            {
                // Compaction changes files, not rows.
                Assert.Equal(readings[snapshot.ParentSnapshotId!.Value], actual);
                others++;
            }
        }
        var current = readings[totals.Metadata.CurrentSnapshotId!.Value];
        using (var files = new HttpFileServer(Path.Combine(_dir, "warehouse")))
            Assert.Equal(current, await EqualityDeleteReads.IcebirdAsync(totals, files, "k", "n", "total", "lo", "last"));
        output.WriteLine($"{ids.Count} records; {commits} commits of the aggregate, {others} other snapshots ({compactions} compaction groups committed)");
        Assert.Equal(7, current.Count);
        Assert.True(commits >= 2, $"{commits} commits");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
