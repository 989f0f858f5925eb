using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using DataPlane.TestServices;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// A keyed tumbling count/sum and a session window over an event-time stream with a watermark, plus a plain copy of
/// the ids, with a dead-letter table, in a real `dataplane serve` fed over HTTP by concurrent clients and killed with
/// SIGKILL six times at random moments (mid-roll, mid-checkpoint, mid-commit): after the last restart closes every
/// window, each window table equals DuckDB's batch answer over the records the stream took minus those the statement
/// dropped as late, and the late records are exactly the dead-letter table's rows. Windows open at a kill survive it
/// only through the checkpoint their sink's last commit names.
/// </summary>
public sealed class WindowedPipelineServerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-windows-e2e-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private const string T0 = "2026-01-01 00:00:00";
    /// <summary>The record that closes every window at the end: far ahead of all others, its own windows stay open.</summary>
    private const long Closer = 100_000_000;

    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"]);

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task SetUpAsync(HttpClient http)
    {
        await http.CreateAsync("api/v1/streams", """
            {"name": "events", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true}, {"name": "k", "type": "string"}, {"name": "v", "type": "long"}, {"name": "ts", "type": "timestamp"}]}}
            """);
        // Each sink commits on its own interval, so a kill finds them at different offsets (and checkpoints) of the one log.
        await http.CreateAsync("api/v1/sinks", """{"name": "counts", "type": "iceberg", "namespace": "default", "table": "counts", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "sessions", "type": "iceberg", "namespace": "default", "table": "sessions", "rolling": {"interval_seconds": 2}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "raw", "type": "iceberg", "namespace": "default", "table": "raw", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "failed", "type": "iceberg", "namespace": "default", "table": "failed", "rolling": {"interval_seconds": 3}}""");
        await http.CreateAsync("api/v1/pipelines", """
            {"name": "windows", "dead_letter": "failed", "sql": "WATERMARK FOR events.ts AS ts - INTERVAL '2' MINUTE; INSERT INTO counts SELECT window_start, window_end, k, count(*) AS n, CAST(sum(v) AS BIGINT) AS total FROM events GROUP BY tumble(INTERVAL '20' SECOND), k; INSERT INTO sessions SELECT window_start, window_end, k, count(*) AS n, max(v) AS top FROM events GROUP BY session(INTERVAL '30' SECOND), k; INSERT INTO raw SELECT id FROM events"}
            """);
    }

    /// <summary>Record id's event time in microseconds after <see cref="T0"/>: blocks of 100 ids a minute apart, 100 ms between ids.</summary>
    private static long Micros(long id) => (id / 100) * 60_000_000 + (id % 100) * 100_000;

    /// <summary>The same in DuckDB's SQL.</summary>
    private const string TimeSql = $"TIMESTAMP '{T0}' + to_microseconds((id // 100) * 60000000 + (id % 100) * 100000)";

    private static string Records(long first, int count)
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var text = new StringBuilder(count * 80);
        for (long id = first; id < first + count; id++)
            text.Append(CultureInfo.InvariantCulture,
                $$"""{"id": {{id}}, "k": "k{{id % 5}}", "v": {{id % 97}}, "ts": "{{t0.AddTicks(Micros(id) * 10):yyyy-MM-ddTHH:mm:ss.ffffff}}"}""").Append('\n');
        return text.ToString();
    }

    private async Task<string> FilesAsync(string table)
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, table));
        return files.Count == 0 ? "SELECT NULL WHERE false" : $"read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
    }

    [Fact]
    public async Task After_sigkills_while_clients_send_each_window_table_equals_duckdbs_batch_answer_over_the_on_time_records()
    {
        var acked = new ConcurrentBag<long>();
        long nextId = 0;
        const int perRequest = 200;
        for (int kill = 0; kill < 6; kill++)
        {
            var server = await StartServerAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            if (kill == 0)
                await SetUpAsync(http);
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    long first = Interlocked.Add(ref nextId, perRequest) - perRequest;
                    try
                    {
                        var response = await http.PostAsync("streams/events", Json(Records(first, perRequest)));
                        if (response.StatusCode == HttpStatusCode.OK) acked.Add(first);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        await Task.Delay(50);
                    }
                }
            })).ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1000, 3000)));
            await server.KillAsync(); // while clients are mid-request, sinks mid-roll, checkpoint or commit
            stop.Cancel();
            await Task.WhenAll(clients);
            await server.DisposeAsync();
        }

        await using (var final = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = final.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            // Far ahead: the watermark passes the end of every window of the records sent before.
            var closer = await http.PostAsync("streams/events", Json(Records(Closer, 1)));
            Assert.Equal(HttpStatusCode.OK, closer.StatusCode);
            var flushed = await http.PostAsync("api/v1/pipelines/windows/flush", null);
            Assert.True(flushed.StatusCode == HttpStatusCode.OK, await flushed.Content.ReadAsStringAsync());
        }

        string raw = await FilesAsync("default.raw"), failed = await FilesAsync("default.failed");
        string counts = await FilesAsync("default.counts"), sessions = await FilesAsync("default.sessions");
        string dropped = $"SELECT sink, reason, (\"record\"::JSON->>'id')::BIGINT AS id FROM {failed}";

        // The records the stream took: the plain copy's ids and the ones it dropped as late, each once, whole requests.
        var taken = TableContents.Rows($"SELECT id FROM {raw} UNION ALL SELECT id FROM ({dropped}) WHERE sink = 'raw'")
            .Select(r => long.Parse(r, CultureInfo.InvariantCulture)).Where(id => id != Closer).ToList();
        Assert.Equal(taken.Count, taken.Distinct().Count());
        var takenSet = taken.ToHashSet();
        Assert.All(acked, first => Assert.Contains(first, takenSet));
        Assert.All(taken.Select(id => id - id % perRequest).Distinct(), first =>
            Assert.True(Enumerable.Range(0, perRequest).All(i => takenSet.Contains(first + i)), $"request {first} is in part"));
        Assert.Empty(TableContents.Rows($"SELECT reason FROM ({dropped}) WHERE reason <> 'late'"));

        string Events(string sink) => $"""
            (SELECT id, 'k' || (id % 5) AS k, id % 97 AS v, {TimeSql} AS ts FROM (SELECT id FROM {raw} UNION ALL SELECT id FROM ({dropped}) WHERE sink = 'raw')
             WHERE id <> {Closer} AND id NOT IN (SELECT id FROM ({dropped}) WHERE sink = '{sink}'))
            """;
        var expectedCounts = TableContents.Rows($"""
            SELECT CAST(make_timestamp((epoch_us(ts) // 20000000) * 20000000) AS VARCHAR), CAST(make_timestamp((epoch_us(ts) // 20000000) * 20000000 + 20000000) AS VARCHAR),
                   k, count(*), sum(v)
            FROM {Events("counts")} GROUP BY ALL
            """);
        var expectedSessions = TableContents.Rows($"""
            WITH e AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY k ORDER BY ts, id) < INTERVAL 30 SECOND THEN 0 ELSE 1 END AS starts FROM {Events("sessions")}),
                 s AS (SELECT *, sum(starts) OVER (PARTITION BY k ORDER BY ts, id ROWS UNBOUNDED PRECEDING) AS session FROM e)
            SELECT CAST(min(ts) AS VARCHAR), CAST(max(ts) + INTERVAL 30 SECOND AS VARCHAR), k, count(*), max(v) FROM s GROUP BY k, session
            """);
        var actualCounts = TableContents.Rows($"SELECT CAST(window_start AS VARCHAR), CAST(window_end AS VARCHAR), k, n, total FROM {counts}");
        var actualSessions = TableContents.Rows($"SELECT CAST(window_start AS VARCHAR), CAST(window_end AS VARCHAR), k, n, top FROM {sessions}");
        long late = long.Parse(TableContents.Rows($"SELECT count(*) FROM ({dropped}) WHERE sink = 'counts'")[0], CultureInfo.InvariantCulture);
        output.WriteLine($"{acked.Count} acknowledged requests; {taken.Count} records taken, {late} late; {actualCounts.Count} tumble rows, {actualSessions.Count} sessions");

        Assert.True(acked.Count > 0);
        Assert.NotEmpty(expectedCounts);
        Assert.Equal(expectedCounts, actualCounts);
        Assert.Equal(expectedSessions, actualSessions);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
