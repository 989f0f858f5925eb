using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Iceberg.Operations;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Pipelines.Tests.Sinks;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// Pipelines over two streams, fed over HTTP: a window join reads each stream's log at its own offsets, commits both
/// streams' offsets with its state, resumes both after a restart, and its table equals DuckDB's batch join; a stream
/// quiet past its idle timeout does not hold the join's results back.
/// </summary>
public sealed class JoinPipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-joins-").FullName;
    private SharedTable _table = null!;

    private const string T0 = "2026-01-01 00:00:00";

    public async Task InitializeAsync()
    {
        _table = await SharedTable.StartAsync(_dir);
        await CreateStreamsAsync("");
        await _table.PostAsync("api/v1/sinks", """{"name": "joined", "type": "iceberg", "namespace": "default", "table": "joined", "rolling": {"interval_seconds": 3600}}""",
            HttpStatusCode.Created);
    }

    /// <param name="watermark">Added to each stream's JSON: <c>, "watermark": {...}</c>, or nothing.</param>
    private async Task CreateStreamsAsync(string watermark)
    {
        foreach (var (stream, value) in new[] { ("orders", "v"), ("payments", "w") })
            await _table.PostAsync("api/v1/streams", $$$"""
                {"name": "{{{stream}}}", "schema": {"fields": [
                  {"name": "id", "type": "long", "required": true}, {"name": "k", "type": "string"}, {"name": "{{{value}}}", "type": "long"}, {"name": "ts", "type": "timestamp"}]}{{{watermark}}}}
                """, HttpStatusCode.Created);
    }

    public async Task DisposeAsync()
    {
        await _table.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Order i at 0.7 s steps, payment j at 0.9 s steps, keys cycling differently so that some windows and keys match and some do not.</summary>
    private static long OrderMicros(long id) => id * 700_000;
    private static long PaymentMicros(long id) => id * 900_000;
    private const string OrdersSql = $"SELECT id, 'k' || (id % 3) AS k, id % 7 AS v, TIMESTAMP '{T0}' + to_microseconds(id * 700000) AS ts FROM range(0, {{0}}) t(id)";
    private const string PaymentsSql = $"SELECT id, 'k' || (id % 4) AS k, id % 5 AS w, TIMESTAMP '{T0}' + to_microseconds(id * 900000) AS ts FROM range(0, {{0}}) t(id)";

    private Task IngestAsync(string stream, long first, int count, long? micros = null)
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var text = new StringBuilder();
        for (long id = first; id < first + count; id++)
        {
            long at = micros ?? (stream == "orders" ? OrderMicros(id) : PaymentMicros(id));
            long value = stream == "orders" ? id % 7 : id % 5;
            string key = "k" + (stream == "orders" ? id % 3 : id % 4);
            text.Append(CultureInfo.InvariantCulture,
                $$"""{"id": {{id}}, "k": "{{key}}", "{{(stream == "orders" ? "v" : "w")}}": {{value}}, "ts": "{{t0.AddTicks(at * 10):yyyy-MM-ddTHH:mm:ss.ffffff}}"}""").Append('\n');
        }
        return _table.PostAsync($"streams/{stream}", text.ToString(), HttpStatusCode.OK);
    }

    private Task CreatePipelineAsync(string join, string watermarks) => _table.PostAsync("api/v1/pipelines", JsonSerializer.Serialize(new
    {
        name = "p",
        sql = watermarks + $"""
            INSERT INTO joined SELECT coalesce(a.window_start, b.window_start) AS window_start, a.k AS a_k, a.n, a.s, b.k AS b_k, b.m
            FROM (SELECT window_start, window_end, k, count(*) AS n, CAST(sum(v) AS BIGINT) AS s FROM orders GROUP BY tumble(INTERVAL '10' SECOND), k) a
            {join} JOIN (SELECT window_start, window_end, k, count(*) AS m FROM payments GROUP BY tumble(INTERVAL '10' SECOND), k) b
            ON a.window_end = b.window_end AND a.k = b.k
            """,
    }), HttpStatusCode.Created);

    private static string DuckDbJoin(string join, int orders, int payments)
    {
        string Windows(string source, string aggregates) =>
            $"(SELECT time_bucket(INTERVAL 10 SECOND, ts) AS window_start, k, {aggregates} FROM ({source}) GROUP BY ALL)";
        return $"""
            SELECT CAST(coalesce(a.window_start, b.window_start) AS VARCHAR), a.k, a.n, a.s, b.k, b.m
            FROM {Windows(string.Format(CultureInfo.InvariantCulture, OrdersSql, orders), "count(*) AS n, sum(v) AS s")} a
            {join} JOIN {Windows(string.Format(CultureInfo.InvariantCulture, PaymentsSql, payments), "count(*) AS m")} b
            ON a.window_start = b.window_start AND a.k = b.k
            """;
    }

    private async Task<List<string>> JoinedAsync()
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, "default.joined"));
        return files.Count == 0 ? [] : TableContents.Rows(
            $"SELECT CAST(window_start AS VARCHAR), a_k, n, s, b_k, m FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    [Fact]
    public async Task A_full_window_join_of_two_streams_across_a_restart_equals_duckdbs_batch_join()
    {
        await CreatePipelineAsync("FULL", "WATERMARK FOR orders.ts AS ts - INTERVAL '3' SECOND; WATERMARK FOR payments.ts AS ts - INTERVAL '3' SECOND;");
        // The windows the first commit leaves open on both sides are in its checkpoint.
        await IngestAsync("orders", 0, 40);
        await IngestAsync("payments", 0, 25);
        await IngestAsync("orders", 40, 30);
        await _table.FlushAsync("p");
        Assert.NotEmpty(await JoinedAsync());

        var commit = CommitHistory.LastCommit((await TableContents.LoadAsync(_dir, "default.joined")).Metadata, "joined")!;
        Assert.Equal("orders,payments", commit.Summary["dataplane.stream"]);
        Assert.Equal("orders:0-70,payments:0-25", commit.Summary["dataplane.streams"]);
        Assert.True(commit.Summary.ContainsKey(CommitHistory.CheckpointKey));

        // Read but not committed when the server stops: read again from each stream's offsets after the restart, once.
        await IngestAsync("payments", 25, 40);
        await IngestAsync("orders", 70, 20);
        await _table.RestartAsync();
        await _table.WaitRunningAsync("p");
        var status = JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/pipelines/p")).RootElement;
        Assert.Equal(["orders", "payments"], status.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.True(status.GetProperty("stateful")[0].GetProperty("last_checkpoint").GetProperty("restored").GetBoolean());

        await IngestAsync("orders", 90, 10);
        await IngestAsync("payments", 65, 12);
        // Far ahead on both streams: every window of the records before closes (the closers' own windows stay open).
        await IngestAsync("orders", 1_000_000, 1, micros: 3_600_000_000);
        await IngestAsync("payments", 1_000_000, 1, micros: 3_600_000_000);
        await _table.FlushAsync("p");

        var expected = TableContents.Rows(DuckDbJoin("FULL", 100, 77));
        Assert.Equal(expected, await JoinedAsync());
        Assert.Contains(expected, r => r.Contains("NULL", StringComparison.Ordinal));
        Assert.Contains(expected, r => !r.Contains("NULL", StringComparison.Ordinal));
        Assert.Equal(0, JsonDocument.Parse(await _table.Http.GetStringAsync("api/v1/pipelines/p")).RootElement.GetProperty("late_records").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stream_quiet_past_its_idle_timeout_does_not_hold_back_the_joins_results(bool declaredByTheStreams)
    {
        if (declaredByTheStreams)
        {
            // The same watermarks in the streams' JSON instead of the SQL: the idle timeout applies as WATERMARK FOR's does.
            foreach (var stream in new[] { "orders", "payments" })
                using (var deleted = await _table.Http.DeleteAsync($"api/v1/streams/{stream}")) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            await CreateStreamsAsync(""", "watermark": {"column": "ts", "idle_timeout": "2 seconds"}""");
            await CreatePipelineAsync("LEFT", "");
        }
        else
            await CreatePipelineAsync("LEFT", "WATERMARK FOR orders.ts AS ts IDLE TIMEOUT INTERVAL '2' SECOND; WATERMARK FOR payments.ts AS ts IDLE TIMEOUT INTERVAL '2' SECOND;");
        await IngestAsync("payments", 0, 3); // up to 00:00:01.8, then nothing more
        await IngestAsync("orders", 0, 30); // up to 00:00:20.3
        // Orders keep coming; payments stay quiet: once they have been for 2 s, the join follows the orders' watermark.
        var expected = TableContents.Rows(DuckDbJoin("LEFT", 30, 3) + " WHERE a.window_start < TIMESTAMP '2026-01-01 00:00:20'");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<string> rows = [];
        for (long id = 30; DateTime.UtcNow < deadline; id++)
        {
            await IngestAsync("orders", id, 1, micros: OrderMicros(29));
            await _table.FlushAsync("p");
            rows = await JoinedAsync();
            if (rows.Count >= expected.Count)
                break;
            await Task.Delay(200);
        }
        Assert.Equal(expected, rows);
        Assert.Contains(expected, r => r.EndsWith("NULL|NULL", StringComparison.Ordinal));
    }
}
