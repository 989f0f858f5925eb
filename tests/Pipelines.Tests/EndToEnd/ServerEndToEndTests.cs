using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>The whole path through the real `dataplane serve` process: HTTP ingestion to Iceberg snapshots.</summary>
public sealed class ServerEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-e2e-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    // Without the maintenance scheduler: these tests hold the sink to "every file under data/ is one a snapshot names",
    // and a compaction cut short by a kill leaves its unfinished outputs for orphan removal (days later), by design.
    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(), "--data", _dir, "--log-format", "simple"],
            new Dictionary<string, string> { ["DATAPLANE_MAINTENANCE__ENABLED"] = "false" });

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task SetUpAsync(HttpClient http, int intervalSeconds)
    {
        await http.CreateAsync("api/v1/streams", """
            {"name": "events", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true},
              {"name": "ts", "type": "timestamptz"},
              {"name": "user", "type": "string"},
              {"name": "note", "type": "string"}]}}
            """);
        await http.CreateAsync("api/v1/sinks", $$$"""{"name": "events_table", "type": "iceberg", "namespace": "default", "table": "events", "partition": ["day(ts)"], "rolling": {"interval_seconds": {{{intervalSeconds}}}}}""");
        await http.CreateAsync("api/v1/pipelines", """{"name": "events_pipeline", "sql": "INSERT INTO events_table SELECT * FROM events"}""");
    }

    /// <summary>NDJSON of records [first, first + count), about 130 bytes each; <paramref name="badAt"/> spoils one record.</summary>
    private static string Records(long first, int count, int badAt = -1)
    {
        var text = new StringBuilder(count * 140);
        for (int i = 0; i < count; i++)
        {
            long id = first + i;
            if (i == badAt)
                text.Append(CultureInfo.InvariantCulture, $$"""{"id": "not a number {{id}}", "user": "x"}""").Append('\n');
            else
                text.Append(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "ts": "2026-01-{{1 + id % 3:D2}}T{{id % 24:D2}}:00:00Z", "user": "user{{id % 1000}}", "note": "some text to make a record about 130 bytes"}""").Append('\n');
        }
        return text.ToString();
    }

    private static async Task<JsonElement> FlushAsync(HttpClient http)
    {
        var response = await http.PostAsync("api/v1/pipelines/events_pipeline/flush", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task A_million_records_sent_concurrently_land_exactly_once_and_rejected_requests_leave_nothing()
    {
        await using var server = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        await SetUpAsync(http, intervalSeconds: 5);

        const int perRequest = 4000, requests = 250;
        long accepted = 0, acceptedIdSum = 0;
        int rejected = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (r, ct) =>
        {
            bool spoil = r % 25 == 7;
            var response = await http.PostAsync("streams/events", Json(Records((long)r * perRequest, perRequest, spoil ? r % perRequest : -1)), ct);
            if (spoil)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Interlocked.Increment(ref rejected);
                return;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Interlocked.Add(ref accepted, perRequest);
            long first = (long)r * perRequest;
            Interlocked.Add(ref acceptedIdSum, perRequest * first + (long)perRequest * (perRequest - 1) / 2);
        });
        Assert.Equal(10, rejected);
        Assert.Equal(960_000, accepted);

        var flushed = await FlushAsync(http);
        Assert.Equal(accepted, flushed.GetProperty("committed_offset").GetInt64());

        var table = await TableContents.LoadAsync(_dir, "default.events");
        Assert.Equal(flushed.GetProperty("snapshot_id").GetInt64(), table.Metadata.CurrentSnapshotId);
        var files = await TableContents.LiveFilesAsync(table);
        Assert.Equal([accepted, accepted, acceptedIdSum], TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT sum(id)::BIGINT FROM rows").ToArray()[..3]);
        var ours = table.Metadata.Snapshots.Where(s => s.Summary.GetValueOrDefault("dataplane.sink") == "events_table").ToList();
        Assert.Equal(accepted, ours.Sum(s => long.Parse(s.Summary["added-records"], CultureInfo.InvariantCulture)));
        Assert.Equal(accepted.ToString(CultureInfo.InvariantCulture), table.Metadata.CurrentSnapshot!.Summary["total-records"]);
        Assert.Equal(accepted, ours.Max(s => long.Parse(s.Summary["dataplane.end-offset"], CultureInfo.InvariantCulture)));

        var status = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/events_pipeline")).RootElement;
        Assert.Equal("running", status.GetProperty("state").GetString());
        Assert.Equal(0, status.GetProperty("lag").GetProperty("records").GetInt64());
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains($"dataplane_stream_records_in_total{{otel_scope_name=\"DataPlane.Pipelines\",stream=\"events\"}} {accepted}", metrics);
        Assert.Contains("dataplane_stream_rejected_requests_total{otel_scope_name=\"DataPlane.Pipelines\",reason=\"invalid_records\",stream=\"events\"} 10", metrics);
        output.WriteLine($"{ours.Count} snapshots, {files.Count} live files");
    }

    [Fact]
    public async Task After_sigkills_while_clients_send_every_acknowledged_record_is_in_the_table_exactly_once()
    {
        var acked = new ConcurrentBag<(long First, int Count)>();
        var unacked = new ConcurrentBag<(long First, int Count)>();
        long nextId = 0;
        const int perRequest = 300;
        for (int kill = 0; kill < 6; kill++)
        {
            var server = await StartServerAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            if (kill == 0)
                await SetUpAsync(http, intervalSeconds: 1);
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    long first = Interlocked.Add(ref nextId, perRequest) - perRequest;
                    try
                    {
                        var response = await http.PostAsync("streams/events", Json(Records(first, perRequest)));
                        (response.StatusCode == HttpStatusCode.OK ? acked : unacked).Add((first, perRequest));
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        unacked.Add((first, perRequest));
                        await Task.Delay(50);
                    }
                }
            })).ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1000, 3500)));
            await server.KillAsync(); // while clients are mid-request
            stop.Cancel();
            await Task.WhenAll(clients);
            await server.DisposeAsync();
        }

        await using (var final = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = final.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await FlushAsync(http);
        }

        var table = await TableContents.LoadAsync(_dir, "default.events");
        var files = await TableContents.LiveFilesAsync(table);
        var duplicates = TableContents.Query(files, "SELECT count(*) FROM (SELECT id FROM rows GROUP BY id HAVING count(*) > 1)");
        Assert.Equal(0, duplicates.Single());
        var present = TableContents.Query(files, "SELECT id FROM rows ORDER BY id").ToHashSet();
        Assert.True(acked.Count > 0);
        foreach (var (first, count) in acked)
            for (long id = first; id < first + count; id++)
                Assert.True(present.Contains(id), $"acknowledged record {id} is missing");
        foreach (var (first, count) in unacked)
        {
            int found = Enumerable.Range(0, count).Count(i => present.Contains(first + i));
            Assert.True(found == 0 || found == count, $"request at {first} was not acknowledged and is half present ({found} of {count})");
        }
        long expectedMax = acked.Sum(a => a.Count) + unacked.Sum(u => u.Count);
        Assert.True(present.Count <= expectedMax);
        // A roll a kill cut short after its files were complete left them behind; the pipeline's journal had them before
        // they were written, so the next start removed them: every file under data/ is one a snapshot names.
        Assert.Empty(await new SnapshotReads(table, Path.Combine(_dir, "fetched")).UnreferencedDataFilesAsync());
        output.WriteLine($"{acked.Count} acknowledged requests, {unacked.Count} not, {present.Count} records in the table");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
