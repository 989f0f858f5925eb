using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Xunit;

namespace DataPlane.Pipelines.Tests.Runtime;

public sealed class PipelineRuntimeTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-runtime-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private HttpClient Http => _host.Client;
    private string Warehouse => Path.Combine(_dir, "warehouse");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        var response = await Http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    private async Task SetUpAsync(string sql, string rolling = """{"interval_seconds": 3600}""")
    {
        await PostAsync("api/v1/streams", """
            {"name": "events", "schema": {"fields": [
              {"name": "id", "type": "long", "required": true},
              {"name": "ts", "type": "timestamptz"},
              {"name": "user", "type": "string"}]}}
            """, HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", $$"""{"name": "events_files", "type": "files", "path": "raw/events", "rolling": {{rolling}}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", $$"""{"name": "events_pipeline", "sql": "{{sql}}"}""", HttpStatusCode.Created);
    }

    private static string Records(int from, int count) =>
        string.Join("\n", Enumerable.Range(from, count).Select(i => $$"""{"id": {{i}}, "ts": "2026-01-31T12:00:00Z", "user": "u{{i % 7}}"}"""));

    /// <summary>The files the sink's commit journal names, read by DuckDB.</summary>
    private List<long> CommittedIds(string column = "id")
    {
        var files = new List<string>();
        var commits = Path.Combine(Warehouse, "raw", "events", "_dataplane", "commits");
        if (Directory.Exists(commits))
            foreach (var commit in Directory.GetFiles(commits, "*.json"))
                foreach (var f in JsonDocument.Parse(File.ReadAllText(commit)).RootElement.GetProperty("files").EnumerateArray())
                    files.Add(Path.Combine(Warehouse, f.GetProperty("key").GetString()!));
        if (files.Count == 0)
            return [];
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT {column} FROM read_parquet([{string.Join(", ", files.Select(f => $"'{f}'"))}]) ORDER BY 1";
        using var reader = cmd.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
            ids.Add(reader.GetInt64(0));
        return ids;
    }

    [Fact]
    public async Task Accepted_records_land_once_in_committed_parquet_files_and_a_restart_resumes_without_duplicates()
    {
        await SetUpAsync("INSERT INTO events_files SELECT * FROM events");
        var sends = Enumerable.Range(0, 20).Select(i => Http.PostAsync("streams/events", Json(Records(i * 100, 100)))).ToList();
        sends.Add(Http.PostAsync("streams/events", Json("""{"id": "bad"}""")));
        var responses = await Task.WhenAll(sends);
        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.OK));

        var flushed = await PostAsync("api/v1/pipelines/events_pipeline/flush", "", HttpStatusCode.OK);
        Assert.Equal(2000, flushed.GetProperty("committed_offset").GetInt64());
        Assert.Equal(1, flushed.GetProperty("snapshot_id").GetInt64());
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)i), CommittedIds());

        var status = JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/events_pipeline")).RootElement;
        Assert.Equal("running", status.GetProperty("state").GetString());
        Assert.Equal(0, status.GetProperty("lag").GetProperty("records").GetInt64());
        Assert.Equal(2000, status.GetProperty("last_commit").GetProperty("records").GetInt64());

        // Records sent, then the server stops before committing them; meanwhile someone else puts a file in the sink's folder.
        await PostAsync("streams/events", Records(2000, 500), HttpStatusCode.OK);
        await _host.DisposeAsync();
        var orphan = Path.Combine(Warehouse, "raw", "events", "year=2026", "month=01", "day=01", "orphan.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        File.Copy(Directory.GetFiles(Warehouse, "*.parquet", SearchOption.AllDirectories)[0], orphan);

        _host = await PipelinesHost.StartAsync(_dir);
        flushed = await PostAsync("api/v1/pipelines/events_pipeline/flush", "", HttpStatusCode.OK);
        Assert.Equal(2500, flushed.GetProperty("committed_offset").GetInt64());
        Assert.Equal(2, flushed.GetProperty("snapshot_id").GetInt64());
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), CommittedIds());
        // Only files the pipeline recorded writing are its to remove: one it did not write stays, though no commit names it.
        Assert.True(File.Exists(orphan), "a file the pipeline did not write is left alone on start");

        var metrics = await Http.GetStringAsync("metrics");
        Assert.Contains("dataplane_pipeline_records_out_total{otel_scope_name=\"DataPlane.Pipelines\",pipeline=\"events_pipeline\"} 500", metrics);
        Assert.Contains("dataplane_pipeline_commit_seconds_count{otel_scope_name=\"DataPlane.Pipelines\",pipeline=\"events_pipeline\"} 1", metrics);
    }

    [Fact]
    public async Task A_projection_with_where_keeps_matching_rows_and_rolls_by_rows()
    {
        await SetUpAsync("INSERT INTO events_files SELECT id AS event_id, user FROM events WHERE user = 'u3' OR id < 5", """{"max_rows": 10}""");
        for (int i = 0; i < 10; i++)
            await PostAsync("streams/events", Records(i * 20, 20), HttpStatusCode.OK);
        await PostAsync("api/v1/pipelines/events_pipeline/flush", "", HttpStatusCode.OK);

        var expected = Enumerable.Range(0, 200).Where(i => i % 7 == 3 || i < 5).Select(i => (long)i);
        Assert.Equal(expected, CommittedIds("event_id"));
        var commits = Directory.GetFiles(Path.Combine(Warehouse, "raw", "events", "_dataplane", "commits"));
        Assert.True(commits.Length > 1, "max_rows rolls more than one commit");
        // The stream's segments that every pipeline has committed past may go; the log keeps the active one.
        Assert.Equal(HttpStatusCode.Conflict, (await Http.DeleteAsync("api/v1/streams/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("api/v1/pipelines/events_pipeline")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("api/v1/streams/events")).StatusCode);
    }

    [Theory]
    [InlineData("""{"name": "p", "sql": "INSERT INTO events_files SELECT nope FROM events"}""", HttpStatusCode.BadRequest, "line 1, column 33: there is no column \"nope\"")]
    [InlineData("""{"name": "p", "sql": "INSERT INTO events_files SELECT * FROM missing"}""", HttpStatusCode.NotFound, "No stream named 'missing'")]
    [InlineData("""{"name": "p", "sql": "INSERT INTO events_files SELECT * FROM events WHERE id = 'x'"}""", HttpStatusCode.BadRequest, "line 1, column 58: 'x' is not a valid BIGINT")]
    [InlineData("""{"name": "P!", "sql": "INSERT INTO events_files SELECT * FROM events"}""", HttpStatusCode.BadRequest, "[a-z][a-z0-9_]*")]
    public async Task Bad_pipelines_are_refused_with_the_reason(string body, HttpStatusCode status, string reason)
    {
        await PostAsync("api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long"}]}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "events_files", "type": "files"}""", HttpStatusCode.Created);
        var error = await PostAsync("api/v1/pipelines", body, status);
        Assert.Contains(reason, error.GetProperty("error").GetString());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
