using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Tests.EndToEnd;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Pipelines.Tests.Api;

/// <summary>
/// The read-only views the console shows: a stream's most recent records and its ingestion activity (accepted,
/// rejected by reason with the latest messages, 15 minutes in buckets), a pipeline's records in and out, and a table's
/// first rows and files, each checked against what was sent and what DuckDB reads from the table.
/// </summary>
public sealed class ConsoleViewsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-console-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private HttpClient Http => _host.Client;

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, string? body = null)
    {
        var (status, json) = await SendAsync(method, path, body);
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"{method} {path}: {(int)status} {json}");
        return json;
    }

    private async Task CreateEventsAsync(string where = "")
    {
        await OkAsync(HttpMethod.Post, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""");
        await OkAsync(HttpMethod.Post, "api/v1/sinks", """{"name": "events_table", "type": "iceberg", "namespace": "default", "table": "events"}""");
        await OkAsync(HttpMethod.Post, "api/v1/pipelines", $$"""{"name": "events_pipeline", "sql": "INSERT INTO events_table SELECT * FROM events{{where}}"}""");
    }

    [Fact]
    public async Task Recent_records_are_the_last_ones_in_the_log_oldest_first_and_bad_limits_are_refused()
    {
        await OkAsync(HttpMethod.Post, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""");
        var none = await OkAsync(HttpMethod.Get, "api/v1/streams/events/records");
        Assert.Empty(none.GetProperty("records").EnumerateArray());
        Assert.Equal(0, none.GetProperty("end_offset").GetInt64());

        for (int request = 0; request < 3; request++)
            await OkAsync(HttpMethod.Post, "streams/events", $$"""[{"id": {{2 * request}}, "user": "u{{2 * request}}"}, {"id": {{2 * request + 1}}, "user": null}]""");

        // Three records from two batches: the tail of the second and the whole third.
        var last = await OkAsync(HttpMethod.Get, "api/v1/streams/events/records?limit=3");
        Assert.Equal([3L, 4L, 5L], last.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal("u4", last.GetProperty("records")[1].GetProperty("user").GetString());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("records")[2].GetProperty("user").ValueKind);
        Assert.Equal(3, last.GetProperty("first_offset").GetInt64());
        Assert.Equal(6, last.GetProperty("end_offset").GetInt64());
        var all = await OkAsync(HttpMethod.Get, "api/v1/streams/events/records?limit=100");
        Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L], all.GetProperty("records").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));

        foreach (var bad in new[] { "0", "101", "ten", "-1" })
        {
            var (status, error) = await SendAsync(HttpMethod.Get, $"api/v1/streams/events/records?limit={bad}");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains($"'{bad}'", error.GetProperty("error").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v1/streams/nope/records")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v1/streams/nope/activity")).Status);
    }

    [Fact]
    public async Task Activity_counts_accepted_and_rejected_requests_by_reason_with_the_latest_messages_and_buckets()
    {
        await CreateEventsAsync();
        // A refusal first: the stream's first request may be one.
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "streams/events", """[{"id": "one"}]""")).Status);
        await OkAsync(HttpMethod.Post, "streams/events", """[{"id": 1}, {"id": 2}]""");
        await OkAsync(HttpMethod.Post, "streams/events", """{"id": 3}""");
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "streams/events", """[{"id": """)).Status);

        var a = await OkAsync(HttpMethod.Get, "api/v1/streams/events/activity");
        Assert.Equal(2, a.GetProperty("accepted").GetProperty("requests").GetInt64());
        Assert.Equal(3, a.GetProperty("accepted").GetProperty("records").GetInt64());
        var rejected = a.GetProperty("rejected");
        Assert.Equal(2, rejected.GetProperty("requests").GetInt64());
        Assert.Equal(1, rejected.GetProperty("by_reason").GetProperty("invalid_records").GetInt64());
        Assert.Equal(1, rejected.GetProperty("by_reason").GetProperty("malformed_json").GetInt64());
        var recent = rejected.GetProperty("recent").EnumerateArray().ToList();
        Assert.Equal(["malformed_json", "invalid_records"], recent.Select(r => r.GetProperty("reason").GetString()));
        Assert.Contains("field 'id'", recent[1].GetProperty("message").GetString());
        Assert.Equal(400, recent[1].GetProperty("status").GetInt32());

        var buckets = a.GetProperty("buckets");
        Assert.Equal(5, buckets.GetProperty("seconds").GetInt32());
        Assert.Equal(180, buckets.GetProperty("records").GetArrayLength());
        Assert.Equal(3, buckets.GetProperty("records").EnumerateArray().Sum(v => v.GetInt64()));
        Assert.Equal(2, buckets.GetProperty("rejected").EnumerateArray().Sum(v => v.GetInt64()));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long end = buckets.GetProperty("start").GetInt64() + 180 * 5;
        Assert.InRange(end, now - 60, now + 60);
    }

    [Fact]
    public async Task A_tables_first_rows_and_files_are_what_DuckDB_reads_and_the_pipeline_counts_records_in_and_out()
    {
        await CreateEventsAsync(" WHERE id > 2");
        await OkAsync(HttpMethod.Post, "streams/events", """[{"id": 1, "user": "ada"}, {"id": 2, "user": "bob"}, {"id": 3, "user": "cy"}, {"id": 4, "user": null}]""");
        await OkAsync(HttpMethod.Post, "api/v1/pipelines/events_pipeline/flush", "{}");

        var pipeline = await OkAsync(HttpMethod.Get, "api/v1/pipelines/events_pipeline");
        Assert.Equal(4, pipeline.GetProperty("records").GetProperty("in").GetInt64());
        Assert.Equal(2, pipeline.GetProperty("records").GetProperty("out").GetInt64());

        var rows = await OkAsync(HttpMethod.Get, "api/v1/tables/default/events/rows?limit=10");
        Assert.Equal(["id", "user"], rows.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        var table = await TableContents.LoadAsync(_dir, "default.events");
        Assert.Equal(table.Metadata.CurrentSnapshotId, rows.GetProperty("snapshot_id").GetInt64());
        var shown = rows.GetProperty("rows").EnumerateArray().Select(r => $"{r.GetProperty("id").GetInt64()}|{(r.GetProperty("user").ValueKind == JsonValueKind.Null ? "null" : r.GetProperty("user").GetString())}").Order().ToList();
        var files = await TableContents.LiveFilesAsync(table);
        Assert.Equal(DuckRows(files), shown);
        Assert.Equal(["3|cy", "4|null"], shown);

        var one = await OkAsync(HttpMethod.Get, "api/v1/tables/default/events/rows?limit=1");
        Assert.Single(one.GetProperty("rows").EnumerateArray());

        var listed = await OkAsync(HttpMethod.Get, "api/v1/tables/default/events/files");
        Assert.Equal(files.Count, listed.GetProperty("total_files").GetInt32());
        Assert.Equal(files.Count, listed.GetProperty("size_histogram").EnumerateArray().Sum(b => b.GetProperty("files").GetInt32()));
        Assert.Equal(files.Order(), listed.GetProperty("files").EnumerateArray().Select(f => new Uri(f.GetProperty("path").GetString()!).LocalPath).Order());
        Assert.Equal(files.Sum(f => new FileInfo(f).Length), listed.GetProperty("total_bytes").GetInt64());

        var (status, error) = await SendAsync(HttpMethod.Get, "api/v1/tables/default/nope/rows");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("default.nope", error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "api/v1/tables/nons/events/files")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Get, "api/v1/tables/default/events/rows?limit=1000")).Status);
    }

    private static List<string> DuckRows(IReadOnlyList<string> files)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT id, coalesce(\"user\", 'null') FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}])";
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add($"{reader.GetInt64(0)}|{reader.GetString(1)}");
        return rows.Order().ToList();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
