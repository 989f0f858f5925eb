using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using DataPlane.TestServices;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// A pipeline of two INSERT statements (a filter and projection with a CAST, and an UNNEST) into two Iceberg tables,
/// with a dead-letter table, in a real `dataplane serve` fed over HTTP and killed with SIGKILL while clients send:
/// every table holds exactly the transform of the records the stream took, each once.
/// </summary>
public sealed class SqlPipelineServerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-sql-e2e-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"]);

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task SetUpAsync(HttpClient http)
    {
        await http.CreateAsync("api/v1/streams", """
            {"name": "events", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true},
              {"name": "user", "type": "string"},
              {"name": "code", "type": "string"},
              {"name": "tags", "type": {"type": "list", "element": "string"}}]}}
            """);
        // Each sink commits on its own interval, so a kill finds them at different offsets of the one log.
        await http.CreateAsync("api/v1/sinks", """{"name": "evens", "type": "iceberg", "namespace": "default", "table": "evens", "rolling": {"interval_seconds": 1}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "tags", "type": "iceberg", "namespace": "default", "table": "tags", "rolling": {"interval_seconds": 2}}""");
        await http.CreateAsync("api/v1/sinks", """{"name": "failed", "type": "iceberg", "namespace": "default", "table": "failed", "rolling": {"interval_seconds": 3}}""");
        await http.CreateAsync("api/v1/pipelines", """
            {"name": "shaped", "dead_letter": "failed", "sql": "INSERT INTO evens SELECT id, upper(user) AS who, CAST(code AS BIGINT) * 2 AS code2 FROM events WHERE id % 2 = 0; INSERT INTO tags SELECT id, UNNEST(tags) AS tag FROM events"}
            """);
    }

    private static bool BadCode(long id) => id % 50 == 8;

    /// <summary>NDJSON of records [first, first + count): code is the id as text (not a number for <see cref="BadCode"/> ids, all even), tags two or none.</summary>
    private static string Records(long first, int count)
    {
        var text = new StringBuilder(count * 100);
        for (long id = first; id < first + count; id++)
            text.Append(CultureInfo.InvariantCulture,
                $$"""{"id": {{id}}, "user": "user{{id % 1000}}", "code": "{{(BadCode(id) ? "bad" : "")}}{{id}}", "tags": {{(id % 5 == 4 ? "[]" : $"[\"t{id % 3}\", \"x\"]")}}}""").Append('\n');
        return text.ToString();
    }

    /// <summary>The table's current rows, read by DuckDB from the files its scan plans, each row's columns joined by '|'.</summary>
    private async Task<List<string>> RowsAsync(string table, string select)
    {
        var files = await TableContents.LiveFilesAsync(await TableContents.LoadAsync(_dir, table));
        if (files.Count == 0)
            return [];
        return TableContents.Rows($"SELECT {select} FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])");
    }

    [Fact]
    public async Task After_sigkills_while_clients_send_each_sink_holds_exactly_the_transform_of_the_records_the_stream_took()
    {
        var acked = new ConcurrentBag<long>();
        var unacked = new ConcurrentBag<long>();
        long nextId = 0;
        const int perRequest = 200;
        for (int kill = 0; kill < 4; kill++)
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
                        (response.StatusCode == HttpStatusCode.OK ? acked : unacked).Add(first);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        unacked.Add(first);
                        await Task.Delay(50);
                    }
                }
            })).ToList();
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1000, 3000)));
            await server.KillAsync(); // while clients are mid-request and sinks mid-roll
            stop.Cancel();
            await Task.WhenAll(clients);
            await server.DisposeAsync();
        }

        await using (var final = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = final.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            var flushed = await http.PostAsync("api/v1/pipelines/shaped/flush", null);
            Assert.True(flushed.StatusCode == HttpStatusCode.OK, await flushed.Content.ReadAsStringAsync());
        }

        var evens = await RowsAsync("default.evens", "id, who, code2");
        var tags = await RowsAsync("default.tags", "id, tag");
        var failed = await RowsAsync("default.failed", "pipeline, sink, reason, stream, (\"record\"::JSON->>'id')::BIGINT, \"record\"::JSON->>'code'");

        // The records the stream took: every acknowledged request, and an unacknowledged one whose append landed before
        // its answer was lost (all of it or none: found by its even ids in one table, then required whole in all).
        var evenIds = evens.Select(r => long.Parse(r[..r.IndexOf('|', StringComparison.Ordinal)], CultureInfo.InvariantCulture)).ToHashSet();
        var taken = acked.Concat(unacked.Where(first => Enumerable.Range(0, perRequest).Any(i => evenIds.Contains(first + i))))
            .SelectMany(first => Enumerable.Range(0, perRequest).Select(i => first + i)).ToList();
        Assert.True(acked.Count > 0);
        Assert.Equal(TableContents.Sorted(taken.Where(id => id % 2 == 0 && !BadCode(id)).Select(id => $"{id}|USER{id % 1000}|{id * 2}")), evens);
        Assert.Equal(TableContents.Sorted(taken.Where(id => id % 5 != 4).SelectMany(id => new[] { $"{id}|t{id % 3}", $"{id}|x" })), tags);
        Assert.Equal(TableContents.Sorted(taken.Where(BadCode).Select(id => $"shaped|evens|invalid_cast|events|{id}|bad{id}")), failed);
        output.WriteLine($"{acked.Count} acknowledged requests, {unacked.Count} not; {taken.Count} records taken, {evens.Count} + {tags.Count} + {failed.Count} rows");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
