using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// What one request or one stored definition can do to a real `dataplane serve` process: nothing a definition says
/// takes it down, a definition that cannot load is reported and skipped, and idle streams hold no files open.
/// </summary>
public sealed class ServerBoundsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-bounds-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private Task<DataPlaneProcess> StartServerAsync(IDictionary<string, string>? environment = null) =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"], environment);

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    private static Task<JsonElement> PostAsync(HttpClient http, string path, string body, HttpStatusCode expected) =>
        SendAsync(http, HttpMethod.Post, path, body, expected);

    private static Task<JsonElement> GetAsync(HttpClient http, string path) => SendAsync(http, HttpMethod.Get, path, null, HttpStatusCode.OK);

    private static async Task SetUpAsync(HttpClient http, string stream, string sink)
    {
        await PostAsync(http, "api/v1/streams", $$$"""{"name": "{{{stream}}}", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""", HttpStatusCode.Created);
        await PostAsync(http, "api/v1/sinks", $$"""{"name": "{{sink}}", "type": "files", "path": "raw/{{stream}}"}""", HttpStatusCode.Created);
    }

    /// <summary><c>id = 0 OR id = 1 OR ...</c> with <paramref name="terms"/> comparisons.</summary>
    private static string ManyTerms(int terms) => string.Join(" OR ", Enumerable.Range(0, terms).Select(i => $"id = {i}"));

    [Fact]
    public async Task A_pipeline_whose_where_has_20000_terms_is_refused_with_400_and_the_server_stays_up()
    {
        await using var server = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await SetUpAsync(http, "events", "events_files");

        var sql = $"INSERT INTO events_files SELECT * FROM events WHERE {ManyTerms(20_000)}";
        var error = await PostAsync(http, "api/v1/pipelines", JsonSerializer.Serialize(new { name = "huge", sql }), HttpStatusCode.BadRequest);
        Assert.Contains("characters", error.GetProperty("error").GetString()); // the SQL length limit, named

        // Under the length limit but over the number of conditions, and nested past the depth limit.
        error = await PostAsync(http, "api/v1/pipelines", JsonSerializer.Serialize(new { name = "wide", sql = $"INSERT INTO events_files SELECT * FROM events WHERE {ManyTerms(1_001)}" }), HttpStatusCode.BadRequest);
        Assert.Contains("1000 conditions", error.GetProperty("error").GetString());
        var deep = "INSERT INTO events_files SELECT * FROM events WHERE " + new string('(', 5_000) + "id = 1" + new string(')', 5_000);
        error = await PostAsync(http, "api/v1/pipelines", JsonSerializer.Serialize(new { name = "deep", sql = deep }), HttpStatusCode.BadRequest);
        Assert.Contains("nested", error.GetProperty("error").GetString());
        var nots = "INSERT INTO events_files SELECT * FROM events WHERE " + string.Concat(Enumerable.Repeat("NOT ", 5_000)) + "id = 1";
        error = await PostAsync(http, "api/v1/pipelines", JsonSerializer.Serialize(new { name = "nots", sql = nots }), HttpStatusCode.BadRequest);
        Assert.Contains("nested", error.GetProperty("error").GetString());

        Assert.False(server.HasExited, server.Output);
        Assert.Equal(0, (await GetAsync(http, "api/v1/pipelines")).GetProperty("pipelines").GetArrayLength());

        // The largest WHERE allowed runs: its records are filtered without trouble.
        await PostAsync(http, "api/v1/pipelines", JsonSerializer.Serialize(new { name = "widest", sql = $"INSERT INTO events_files SELECT * FROM events WHERE {ManyTerms(1_000)}" }), HttpStatusCode.Created);
        await PostAsync(http, "streams/events", string.Join("\n", Enumerable.Range(990, 20).Select(i => $$"""{"id": {{i}}}""")), HttpStatusCode.OK);
        var flushed = await PostAsync(http, "api/v1/pipelines/widest/flush", "", HttpStatusCode.OK);
        Assert.Equal(10, flushed.GetProperty("commit").GetProperty("records").GetInt64());
        Assert.False(server.HasExited, server.Output);
    }

    [Fact]
    public async Task Stored_definitions_that_cannot_load_are_reported_as_failed_and_skipped_at_start_up()
    {
        var pipelines = Path.Combine(_dir, "pipelines");
        await using (var first = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress };
            await SetUpAsync(http, "events", "events_files");
            await SetUpAsync(http, "other", "other_files");
            await PostAsync(http, "api/v1/pipelines", """{"name": "good", "sql": "INSERT INTO events_files SELECT * FROM events"}""", HttpStatusCode.Created);
            await PostAsync(http, "streams/other", """{"id": 1}""", HttpStatusCode.OK);
        }

        // As an older version saved them: a pipeline with a 10,000-term WHERE (it overflowed the stack on its first
        // batch, and again on every restart), a pipeline that is not JSON, a stream and a sink whose files are damaged.
        File.WriteAllText(Path.Combine(pipelines, "pipelines", "huge.json"), JsonSerializer.Serialize(new
        {
            name = "huge",
            sql = $"INSERT INTO other_files SELECT * FROM other WHERE {ManyTerms(10_000)}",
            created_at = "2026-01-01T00:00:00Z",
        }));
        File.WriteAllText(Path.Combine(pipelines, "pipelines", "broken.json"), "{\"name\": \"broken\", \"sql\": ");
        Directory.CreateDirectory(Path.Combine(pipelines, "streams", "damaged"));
        File.WriteAllText(Path.Combine(pipelines, "streams", "damaged", "stream.json"), "{\"name\": \"damaged\", \"schema\": {\"fields\": 5}}");
        File.WriteAllText(Path.Combine(pipelines, "sinks", "bad_sink.json"), "not json at all");

        for (int start = 0; start < 2; start++) // and again: no crash loop
        {
            await using var server = await StartServerAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };

            var huge = await GetAsync(http, "api/v1/pipelines/huge");
            Assert.Equal("failed", huge.GetProperty("state").GetString());
            Assert.Contains("characters", huge.GetProperty("errors")[0].GetProperty("message").GetString());
            var broken = await GetAsync(http, "api/v1/pipelines/broken");
            Assert.Equal("failed", broken.GetProperty("state").GetString());
            var listed = (await GetAsync(http, "api/v1/pipelines")).GetProperty("pipelines").EnumerateArray()
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("state").GetString());
            Assert.Equal("failed", listed["huge"]);
            Assert.Equal("failed", listed["broken"]);
            Assert.Equal("running", listed["good"]);

            var damaged = await GetAsync(http, "api/v1/streams/damaged");
            Assert.Equal("failed", damaged.GetProperty("state").GetString());
            Assert.Contains("fields", damaged.GetProperty("error").GetString());
            var badSink = await GetAsync(http, "api/v1/sinks/bad_sink");
            Assert.Equal("failed", badSink.GetProperty("state").GetString());
            Assert.Contains("bad_sink.json", badSink.GetProperty("error").GetString());

            // Their names stay taken: a create under one gets 409 saying it failed to load, under a loaded one that it exists.
            foreach (var (path, body) in new[]
            {
                ("streams", """{"name": "damaged"}"""),
                ("sinks", """{"name": "bad_sink", "type": "files", "path": "raw/bad"}"""),
                ("pipelines", """{"name": "broken", "sql": "INSERT INTO other_files SELECT * FROM other"}"""),
            })
            {
                var taken = await PostAsync(http, $"api/v1/{path}", body, HttpStatusCode.Conflict);
                Assert.Contains($"is stored but failed to load (GET /api/v1/{path}/", taken.GetProperty("error").GetString());
            }
            var exists = await PostAsync(http, "api/v1/streams", """{"name": "events"}""", HttpStatusCode.Conflict);
            Assert.Equal("A stream named 'events' already exists; delete it first or pick another name.", exists.GetProperty("error").GetString());

            // Everything else works: records into the stream the failed pipeline reads, and the good pipeline commits.
            await PostAsync(http, "streams/other", """{"id": 2}""", HttpStatusCode.OK);
            await PostAsync(http, "streams/events", """{"id": 3}""", HttpStatusCode.OK);
            await PostAsync(http, "api/v1/pipelines/good/flush", "", HttpStatusCode.OK);
            Assert.False(server.HasExited, server.Output);
            output.WriteLine(huge.GetProperty("errors")[0].GetProperty("message").GetString());
        }

        // A failed definition is removed like any other, and its name is free again.
        await using (var server = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            await SendAsync(http, HttpMethod.Delete, "api/v1/pipelines/huge", null, HttpStatusCode.NoContent);
            await SendAsync(http, HttpMethod.Delete, "api/v1/streams/damaged", null, HttpStatusCode.NoContent);
            await SendAsync(http, HttpMethod.Delete, "api/v1/sinks/bad_sink", null, HttpStatusCode.NoContent);
            await PostAsync(http, "api/v1/pipelines", """{"name": "huge", "sql": "INSERT INTO other_files SELECT * FROM other WHERE id > 1"}""", HttpStatusCode.Created);
            Assert.False(File.Exists(Path.Combine(pipelines, "sinks", "bad_sink.json")));
            Assert.False(Directory.Exists(Path.Combine(pipelines, "streams", "damaged")));
        }
    }

    private static int OpenDescriptors(DataPlaneProcess server) => Directory.GetFiles($"/proc/{server.Id}/fd").Length;

    private static long ResidentBytes(DataPlaneProcess server) =>
        long.Parse(File.ReadLines($"/proc/{server.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    [Fact]
    public async Task Two_thousand_streams_that_were_written_once_hold_open_files_only_while_active()
    {
        const int streams = 2_000;
        await using var server = await StartServerAsync(new Dictionary<string, string>
        {
            ["DATAPLANE_PIPELINES__MAXSTREAMS"] = "2500",
            ["DATAPLANE_PIPELINES__STREAMIDLESECONDS"] = "1",
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        const string schema = """{"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}""";
        await PostAsync(http, "api/v1/streams", $$"""{"name": "warm", "schema": {{schema}}}""", HttpStatusCode.Created);
        await PostAsync(http, "streams/warm", """{"id": 1, "user": "ada"}""", HttpStatusCode.OK);
        GC.KeepAlive(await GetAsync(http, "api/v1/streams"));
        int before = OpenDescriptors(server);
        long rssBefore = ResidentBytes(server);

        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            await PostAsync(http, "api/v1/streams", $$"""{"name": "s{{i}}", "schema": {{schema}}}""", HttpStatusCode.Created);
            await PostAsync(http, $"streams/s{i}", $$"""{"id": {{i}}, "user": "user {{i}}"}""", HttpStatusCode.OK);
        });
        int busy = OpenDescriptors(server);

        // Once they are idle, the streams hold no file open: far fewer descriptors than one per stream.
        int after = busy;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && (after = OpenDescriptors(server)) > before + streams / 20)
            await Task.Delay(200);
        long rssAfter = ResidentBytes(server);
        output.WriteLine($"descriptors: {before} before, {busy} right after writing to {streams} streams, {after} once idle; " +
            $"resident memory {rssBefore / 1_000_000} MB -> {rssAfter / 1_000_000} MB ({(rssAfter - rssBefore) / streams / 1000} KB per stream)");
        Assert.True(after <= before + streams / 20, $"{after} descriptors open for {streams} idle streams (was {before})");

        // Every stream still works: a record into each of a few wakes them, and their logs hold everything.
        foreach (int i in new[] { 0, 999, streams - 1 })
        {
            await PostAsync(http, $"streams/s{i}", $$"""{"id": {{i + 1}}}""", HttpStatusCode.OK);
            Assert.Equal(2, (await GetAsync(http, $"api/v1/streams/s{i}")).GetProperty("log").GetProperty("end_offset").GetInt64());
        }
        Assert.False(server.HasExited, server.Output);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
