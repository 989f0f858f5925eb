using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// The crash test of windows: a keyed tumbling window (count, sum, min, max per key per second) and a session window
/// per key over an event-time stream, in a real <c>dataplane serve</c> fed over HTTP by one client and killed with
/// SIGKILL six times at seeded random moments: at a random time, when a checkpoint lands next to a window table (before
/// the commit that names it), when any object is being written, when a window table's commit writes its metadata file, and right
/// after a flush request. After each restart the client sends again the request the kill cut off when the log does not
/// hold it (the log's end says), so the stream takes every request exactly once. After the last restart closes every
/// window, each window table, read by DuckDB and by icebird, equals the table of an uninterrupted run of a fresh server
/// fed the same requests in the same order, and DuckDB's batch answer over those records: no window lost, none twice,
/// none with a wrong aggregate. The records come from a seeded <see cref="Random"/>, which also picks the kill moments;
/// DATAPLANE_TEST_SEED replays a run.
/// </summary>
public sealed class WindowedPipelineCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pipelines-window-crash-").FullName;

    private const int PerRequest = 100;
    private const int SessionGapMs = 3000;
    /// <summary>The record that closes every window at the end: a day after the others, its own windows stay open.</summary>
    private const long Closer = 1_000_000_000;
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const string Sql =
        "WATERMARK FOR events.ts AS ts - INTERVAL '2' SECOND; " +
        "INSERT INTO tumbles SELECT window_start, window_end, k, count(*) AS n, CAST(sum(v) AS BIGINT) AS total, min(v) AS lo, max(v) AS hi FROM events GROUP BY tumble(INTERVAL '1' SECOND), k; " +
        "INSERT INTO sessions SELECT window_start, window_end, k, count(*) AS n, CAST(sum(v) AS BIGINT) AS total, min(v) AS lo, max(v) AS hi FROM events GROUP BY session(INTERVAL '3' SECOND), k; " +
        "INSERT INTO raw SELECT id FROM events";

    /// <summary>Where a kill lands.</summary>
    private enum KillAt
    {
        /// <summary>After a random time, wherever the server is.</summary>
        Moment,
        /// <summary>As a checkpoint file appears next to a window table: written, its commit not yet made.</summary>
        Checkpoint,
        /// <summary>As a temporary file appears in the warehouse: an object (data file, manifest, checkpoint) being written.</summary>
        Write,
        /// <summary>As a window table's metadata file appears: a commit between writing its metadata and the catalog taking it.</summary>
        Commit,
        /// <summary>Right after a flush request is sent: every sink starts a commit at once.</summary>
        Flush,
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static Task<DataPlaneProcess> StartServerAsync(string dir, int port) =>
        DataPlaneProcess.StartServerAsync(dir, port, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", dir, "--log-format", "simple"]);

    private static async Task SetUpAsync(HttpClient http)
    {
        await http.CreateAsync("api/v1/streams", """
            {"name": "events", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true}, {"name": "k", "type": "string"}, {"name": "v", "type": "long"}, {"name": "ts", "type": "timestamp"}]}}
            """);
        // Short rolls: many commits, each window sink's with a checkpoint, so a kill often finds one under way.
        await http.CreateAsync("api/v1/sinks", """{"name": "tumbles", "type": "iceberg", "namespace": "default", "table": "tumbles", "rolling": {"interval_seconds": 1, "max_rows": 2000}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "sessions", "type": "iceberg", "namespace": "default", "table": "sessions", "rolling": {"interval_seconds": 1, "max_rows": 500}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "raw", "type": "iceberg", "namespace": "default", "table": "raw", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/pipelines", JsonSerializer.Serialize(new { name = "windows", sql = Sql }));
    }

    /// <summary>Sends the record far ahead (closing every window of the others) and flushes the pipeline.</summary>
    private static async Task CloseAndFlushAsync(HttpClient http)
    {
        var closer = await http.PostAsync("streams/events", Json(Record(Closer, "closer", 0, T0.AddDays(1))));
        Assert.True(closer.StatusCode == HttpStatusCode.OK, await closer.Content.ReadAsStringAsync());
        var flushed = await http.PostAsync("api/v1/pipelines/windows/flush", null);
        Assert.True(flushed.StatusCode == HttpStatusCode.OK, await flushed.Content.ReadAsStringAsync());
    }

    private static string Record(long id, string key, long value, DateTime ts) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "k": "{{key}}", "v": {{value}}, "ts": "{{ts:yyyy-MM-ddTHH:mm:ss.ffffff}}"}""") + "\n";

    /// <summary>
    /// The records, request by request (ids <c>index * PerRequest</c> on): event time moves on a few milliseconds a record,
    /// each record a little out of order (under the watermark's delay, so none is late), spread over keys that each
    /// alternate between active and idle spells, some idle spells longer than the session gap and some shorter.
    /// </summary>
    private sealed class Feed(int seed)
    {
        private const int Keys = 6;
        private readonly Random _random = new(seed);
        private readonly List<string> _requests = [];
        private readonly bool[] _active = new bool[Keys];
        private readonly long[] _until = new long[Keys];
        private long _ms;

        public string Request(int index)
        {
            while (_requests.Count <= index)
                _requests.Add(Next(_requests.Count));
            return _requests[index];
        }

        private string Next(int index)
        {
            var text = new StringBuilder(PerRequest * 80);
            for (long id = (long)index * PerRequest; id < (long)(index + 1) * PerRequest; id++)
            {
                _ms += _random.Next(0, 8);
                int key = -1;
                for (int attempt = 0; key < 0; attempt++)
                {
                    for (int k = 0; k < Keys; k++)
                        while (_until[k] <= _ms)
                        {
                            _active[k] = !_active[k];
                            _until[k] += _active[k] ? _random.Next(500, 4000) : _random.Next(1000, 2 * SessionGapMs);
                        }
                    int first = _random.Next(Keys);
                    for (int i = 0; i < Keys && key < 0; i++)
                        if (_active[(first + i) % Keys])
                            key = (first + i) % Keys;
                    if (key < 0)
                        _ms = _until.Min(); // every key idle: on to the first one's next spell
                }
                long ts = Math.Max(0, _ms - _random.Next(0, 400));
                text.Append(Record(id, $"k{key}", _random.Next(-500, 1000), T0.AddMilliseconds(ts)));
            }
            return text.ToString();
        }
    }

    [Fact]
    public async Task After_sigkills_at_random_moments_and_mid_checkpoint_the_window_tables_equal_an_uninterrupted_runs()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DATAPLANE_TEST_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (DATAPLANE_TEST_SEED={seed} replays its records and kill moments)");
        var feed = new Feed(seed);
        var clock = Stopwatch.StartNew();
        var random = new Random(seed + 1);
        // A kill of each kind, the first at a moment (that run creates the pipeline), the others in a seeded order.
        var kills = new List<KillAt> { KillAt.Moment };
        kills.AddRange(new[] { KillAt.Checkpoint, KillAt.Checkpoint, KillAt.Write, KillAt.Commit, KillAt.Flush }.OrderBy(_ => random.Next()));

        string crashed = Path.Combine(_root, "crashed"), warehouse = Path.Combine(crashed, "warehouse");
        Directory.CreateDirectory(crashed);
        int port = DataPlaneProcess.FreePort();
        var acked = new HashSet<int>();
        int nextRequest = 0, resent = 0;
        foreach (var (kill, n) in kills.Select((k, i) => (k, i)))
        {
            var server = await StartServerAsync(crashed, port);
            string trigger;
            double started, checkpointed;
            int waitMs;
            try
            {
                started = clock.Elapsed.TotalSeconds;
                using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                if (n == 0)
                    await SetUpAsync(http);
                // One client, one request at a time, so the log holds requests 0 to m-1, whole: the request cut off by the kill
                // is sent again when the log does not hold it, and the log ends up with every request once.
                int taken = await TakenRequestsAsync(http);
                if (taken < nextRequest)
                    resent++;
                Assert.True(taken >= acked.Count && taken <= nextRequest, $"the log holds {taken} requests; {acked.Count} acknowledged of {nextRequest} sent");
                nextRequest = taken;
                using var stop = new CancellationTokenSource();
                var client = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        try
                        {
                            var response = await http.PostAsync("streams/events", Json(feed.Request(nextRequest)));
                            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
                            acked.Add(nextRequest++);
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                        {
                            nextRequest++; // cut off by the kill: taken or not, the next run's log says
                            return;
                        }
                    }
                });
                // Each run gets as far as a commit of both window sinks with records it took, so the next one restores their
                // checkpoints (with windows open) rather than starting over.
                await WaitForCheckpointsAsync(http, server);
                checkpointed = clock.Elapsed.TotalSeconds;
                waitMs = random.Next(0, 1500);
                await Task.Delay(waitMs);
                trigger = kill switch
                {
                    KillAt.Moment => await KillNowAsync(server),
                    KillAt.Flush => await KillAfterFlushAsync(server, http, random.Next(0, 50)),
                    KillAt.Checkpoint => await KillOnFileAsync(server, warehouse, p => p.Contains("/tumbles/checkpoints/", StringComparison.Ordinal) || p.Contains("/sessions/checkpoints/", StringComparison.Ordinal)),
                    KillAt.Write => await KillOnFileAsync(server, warehouse, p => p.Contains("/.dataplane/tmp/", StringComparison.Ordinal)),
                    KillAt.Commit => await KillOnFileAsync(server, warehouse, p => p.EndsWith(".metadata.json", StringComparison.Ordinal) && !p.Contains("/raw/", StringComparison.Ordinal)),
                    _ => throw new InvalidOperationException(),
                };
                stop.Cancel();
                await client;
            }
            finally
            {
                await server.DisposeAsync(); // SIGKILL already, unless the run failed
            }
            if (kill is KillAt.Checkpoint or KillAt.Commit)
                trigger += await NamedByACommitAsync(crashed, Path.GetFileName(trigger)) ? " (its commit landed)" : " (its commit did not land)";
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: kill {n + 1} (started at {started:F1} s, checkpointed at {checkpointed:F1} s): {kill}, " +
                $"{waitMs} ms after a checkpoint{trigger}; {acked.Count} of {nextRequest} requests acknowledged so far");
        }

        // The last restart closes every window and flushes; an uninterrupted run on a fresh server, fed the same requests in
        // the same order (several a POST), does the same meanwhile.
        string uninterrupted = Path.Combine(_root, "uninterrupted");
        Directory.CreateDirectory(uninterrupted);
        var requests = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = Task.Run(async () =>
        {
            try
            {
                await using var final = await StartServerAsync(crashed, port);
                using var http = new HttpClient { BaseAddress = final.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                requests.SetResult(await TakenRequestsAsync(http));
                await CloseAndFlushAsync(http);
            }
            catch (Exception e)
            {
                requests.TrySetException(e);
                throw;
            }
        });
        var unbroken = Task.Run(async () =>
        {
            await using var server = await StartServerAsync(uninterrupted, DataPlaneProcess.FreePort());
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await SetUpAsync(http);
            foreach (var chunk in Enumerable.Range(0, await requests.Task).Chunk(20))
            {
                var response = await http.PostAsync("streams/events", Json(string.Concat(chunk.Select(feed.Request))));
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
            await CloseAndFlushAsync(http);
        });
        await Task.WhenAll(finish, unbroken);
        int count = await requests.Task;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: both runs closed; {count} requests ({count * PerRequest} records), {acked.Count} acknowledged, " +
            $"{resent} sent again after a kill");

        // Both runs' streams took every request once, whole, the acknowledged ones among them.
        var ids = Enumerable.Range(0, count * PerRequest).Select(i => (long)i).ToList();
        Assert.Equal(ids, (await IdsAsync(crashed)).Where(id => id != Closer).Order());
        Assert.Equal(ids, (await IdsAsync(uninterrupted)).Where(id => id != Closer).Order());
        Assert.All(acked, index => Assert.True(index < count));

        // DuckDB's batch answer over the same records.
        string records = Path.Combine(_root, "records.jsonl");
        await File.WriteAllTextAsync(records, string.Concat(Enumerable.Range(0, count).Select(feed.Request)));
        string events = $"read_json('{records}', format = 'newline_delimited', columns = {{id: 'BIGINT', k: 'VARCHAR', v: 'BIGINT', ts: 'TIMESTAMP'}})";
        var batchTumbles = TableContents.Rows($"""
            SELECT epoch_ms(time_bucket(INTERVAL 1 SECOND, ts)), epoch_ms(time_bucket(INTERVAL 1 SECOND, ts)) + 1000, k, count(*), sum(v), min(v), max(v)
            FROM {events} GROUP BY ALL
            """);
        var batchSessions = TableContents.Rows($"""
            WITH e AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY k ORDER BY ts, id) < INTERVAL {SessionGapMs} MILLISECOND THEN 0 ELSE 1 END AS starts FROM {events}),
                 s AS (SELECT *, sum(starts) OVER (PARTITION BY k ORDER BY ts, id ROWS UNBOUNDED PRECEDING) AS session FROM e)
            SELECT epoch_ms(min(ts)), epoch_ms(max(ts)) + {SessionGapMs}, k, count(*), sum(v), min(v), max(v) FROM s GROUP BY k, session
            """);

        using var files = new HttpFileServer(warehouse);
        foreach (var (table, batch) in new[] { ("default.tumbles", batchTumbles), ("default.sessions", batchSessions) })
        {
            var afterKills = await TableContents.LoadAsync(crashed, table);
            var duck = WindowRows(await TableContents.LiveFilesAsync(afterKills));
            var icebird = WindowRows(await EqualityDeleteReads.IcebirdAsync(afterKills, files, "window_start", "window_end", "k", "n", "total", "lo", "hi"));
            var reference = WindowRows(await TableContents.LiveFilesAsync(await TableContents.LoadAsync(uninterrupted, table)));
            output.WriteLine($"{table}: {duck.Count} windows after the kills, {reference.Count} uninterrupted, {batch.Count} in DuckDB's batch answer; " +
                $"{afterKills.Metadata.Snapshots.Count} snapshots");
            Assert.NotEmpty(batch);
            Assert.Equal(batch, reference);
            AssertSameWindows(reference, duck, $"{table} after the kills, read by DuckDB");
            AssertSameWindows(reference, icebird, $"{table} after the kills, read by icebird");
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: read");
    }

    /// <summary>Equal lists of windows, or a message naming the windows missing and those too many (a duplicate among them).</summary>
    private static void AssertSameWindows(List<string> expected, List<string> actual, string what)
    {
        if (expected.SequenceEqual(actual))
            return;
        var missing = expected.ToList();
        var extra = new List<string>();
        foreach (var row in actual)
            if (!missing.Remove(row))
                extra.Add(row);
        Assert.Fail($"{what}: {missing.Count} window(s) missing, {extra.Count} too many:\n  missing {string.Join("\n  missing ", missing.Take(20))}\n  extra {string.Join("\n  extra ", extra.Take(20))}");
    }

    /// <summary>A window table's rows, read by DuckDB, with the window's bounds in epoch milliseconds.</summary>
    private static List<string> WindowRows(IReadOnlyList<string> files) =>
        files.Count == 0 ? [] : TableContents.Rows($"SELECT epoch_ms(window_start), epoch_ms(window_end), k, n, total, lo, hi FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");

    /// <summary>The same from icebird's rows, whose timestamps are ISO 8601 text.</summary>
    private static List<string> WindowRows(List<string> icebird) =>
        TableContents.Sorted(icebird.Select(row =>
        {
            var columns = row.Split('|');
            for (int i = 0; i < 2; i++)
                columns[i] = DateTimeOffset.Parse(columns[i], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            return string.Join("|", columns);
        }));

    /// <summary>The ids the raw copy of a run holds.</summary>
    private static async Task<List<long>> IdsAsync(string dir) =>
        TableContents.Query(await TableContents.LiveFilesAsync(await TableContents.LoadAsync(dir, "default.raw")), "SELECT id FROM rows");

    /// <summary>How many requests the stream's log holds (the client's requests are whole and in order: 0 to the answer less one).</summary>
    private static async Task<int> TakenRequestsAsync(HttpClient http)
    {
        using var status = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/windows"));
        long end = status.RootElement.GetProperty("offsets").GetProperty("stream_end").GetInt64();
        Assert.True(end % PerRequest == 0, $"the log ends at {end}, within a request");
        return (int)(end / PerRequest);
    }

    /// <summary>Polls the pipeline until both window sinks wrote a checkpoint in this run past where the stream ended when it started.</summary>
    private static async Task WaitForCheckpointsAsync(HttpClient http, DataPlaneProcess server)
    {
        long? streamEnd = null;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            using (var status = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/windows")))
            {
                streamEnd ??= status.RootElement.GetProperty("offsets").GetProperty("stream_end").GetInt64();
                var windows = status.RootElement.GetProperty("stateful").EnumerateArray().Where(s => s.GetProperty("sink").GetString() is "tumbles" or "sessions").ToList();
                if (windows.Count == 2 && windows.All(s => s.GetProperty("last_checkpoint") is { ValueKind: JsonValueKind.Object } c &&
                    !c.GetProperty("restored").GetBoolean() && c.GetProperty("end_offset").GetInt64() > streamEnd))
                    return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint of both window sinks past offset {streamEnd} within 90 s:\n{server.Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Whether a commit of a window table names the checkpoint or metadata file <paramref name="name"/>.</summary>
    private static async Task<bool> NamedByACommitAsync(string dir, string name)
    {
        foreach (var table in new[] { "default.tumbles", "default.sessions" })
        {
            var loaded = await TableContents.LoadAsync(dir, table);
            if (loaded.State.MetadataLocation.EndsWith(name, StringComparison.Ordinal) ||
                loaded.Metadata.Snapshots.Any(s => s.Summary.TryGetValue("dataplane.checkpoint", out var c) && c.EndsWith(name, StringComparison.Ordinal)))
                return true;
        }
        return false;
    }

    private static async Task<string> KillNowAsync(DataPlaneProcess server)
    {
        await server.KillAsync();
        return "";
    }

    private static async Task<string> KillAfterFlushAsync(DataPlaneProcess server, HttpClient http, int afterMs)
    {
        var flush = http.PostAsync("api/v1/pipelines/windows/flush", null);
        await Task.Delay(afterMs);
        await server.KillAsync();
        try
        {
            var response = await flush;
            return $", {afterMs} ms after the flush request (answered {(int)response.StatusCode} first)";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $", {afterMs} ms after the flush request";
        }
    }

    /// <summary>Kills the server from the file system's notification of the first file under <paramref name="folder"/> that
    /// <paramref name="match"/> takes (created, or moved into place), so the server is still in the middle of what wrote it.</summary>
    private static async Task<string> KillOnFileAsync(DataPlaneProcess server, string folder, Func<string, bool> match)
    {
        var killed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Seen(string path)
        {
            if (match(path) && !killed.Task.IsCompleted)
            {
                _ = server.KillAsync(); // SIGKILL right here, on the notification's thread
                killed.TrySetResult(path);
            }
        }
        using var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
        watcher.Created += (_, e) => Seen(e.FullPath);
        watcher.Renamed += (_, e) => Seen(e.FullPath);
        watcher.EnableRaisingEvents = true;
        var deadline = Task.Delay(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(killed.Task, deadline) == deadline)
            Assert.Fail($"No file matching under {folder} within 60 s:\n{server.Output}");
        await server.KillAsync();
        return $", at {Path.GetRelativePath(folder, await killed.Task)}";
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
