using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace DataPlane.Pipelines.Tests.Api;

/// <summary>Requests to <c>/streams/NAME</c> and <c>/api/v1/...</c> that used to get a 500 or a wrong answer: each gets a 4xx naming what is wrong.</summary>
public sealed class ManagementApiErrorsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-api-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync() => _host = await PipelinesHost.StartAsync(_dir);

    private HttpClient Http => _host.Client;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string path, HttpContent body, HttpStatusCode expected)
    {
        var response = await Http.PostAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    private Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected) => PostAsync(path, Json(body), expected);

    [Theory]
    [InlineData("api/v1/streams")]
    [InlineData("api/v1/sinks")]
    [InlineData("api/v1/pipelines")]
    public async Task A_management_body_over_the_limit_gets_413_with_the_usual_error_body(string path)
    {
        // Past Kestrel's own 30 MB limit too, where the answer used to be a 413 with an empty body. The client waits for
        // "100 Continue" before sending a body this large (as curl does), so it reads the refusal instead of a reset. It
        // waits as long as the server takes: after the default 1 s a busy machine's client sends the body anyway, and
        // the server's refusal then meets a body still arriving (broken pipe).
        var huge = "{\"name\": \"x\", \"padding\": \"" + new string('a', 31 * 1024 * 1024) + "\"}";
        using var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(2) }) { BaseAddress = Http.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(huge) };
        request.Headers.ExpectContinue = true;
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{(int)response.StatusCode} {text}");
        Assert.Contains("over the limit of 1048576 bytes", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Streams_sinks_and_pipelines_past_their_configured_limits_get_409_naming_the_limit_and_the_setting()
    {
        await using var host = await PipelinesHost.StartAsync(Path.Combine(_dir, "limited"), o => { o.MaxStreams = 2; o.MaxSinks = 2; o.MaxPipelines = 1; });
        async Task<string> Post(string path, string body, HttpStatusCode expected)
        {
            var response = await host.Client.PostAsync(path, Json(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
            return text;
        }
        for (int i = 0; i < 2; i++)
        {
            await Post("api/v1/streams", $$"""{"name": "s{{i}}"}""", HttpStatusCode.Created);
            await Post("api/v1/sinks", $$"""{"name": "k{{i}}", "type": "files"}""", HttpStatusCode.Created);
        }
        var error = JsonDocument.Parse(await Post("api/v1/streams", """{"name": "s2"}""", HttpStatusCode.Conflict)).RootElement.GetProperty("error").GetString();
        Assert.Contains("limit of 2", error);
        Assert.Contains("Pipelines:MaxStreams", error);
        Assert.Contains("DATAPLANE_PIPELINES__MAXSTREAMS", error);
        error = JsonDocument.Parse(await Post("api/v1/sinks", """{"name": "k2", "type": "files"}""", HttpStatusCode.Conflict)).RootElement.GetProperty("error").GetString();
        Assert.Contains("Pipelines:MaxSinks", error);
        await Post("api/v1/pipelines", """{"name": "p0", "sql": "INSERT INTO k0 SELECT * FROM s0"}""", HttpStatusCode.Created);
        error = JsonDocument.Parse(await Post("api/v1/pipelines", """{"name": "p1", "sql": "INSERT INTO k1 SELECT * FROM s1"}""", HttpStatusCode.Conflict)).RootElement.GetProperty("error").GetString();
        Assert.Contains("Pipelines:MaxPipelines", error);

        // Room again once one is deleted.
        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync("api/v1/streams/s1")).StatusCode);
        await Post("api/v1/streams", """{"name": "s2"}""", HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("""{"name": "k", "partition": [5]}""", "5")]
    [InlineData("""{"name": "k", "partition": ["day(ts)", null]}""", "null")]
    [InlineData("""{"name": "k", "partition": "day(ts)"}""", "\"day(ts)\"")]
    [InlineData("""{"name": "k", "partition": ["bucket(0,id)"]}""", "bucket(0,id)")]
    [InlineData("""{"name": "k", "partition": ["bucket(99999999999, id)"]}""", "bucket(99999999999, id)")]
    [InlineData("""{"name": "k", "partition": ["id(("]}""", "id((")]
    [InlineData("""{"name": "k", "partition": ["day(2, ts)"]}""", "day(2, ts)")]
    [InlineData("""{"name": "k", "partition": ["bucket(id)"]}""", "bucket(id)")]
    [InlineData("""{"name": "k", "partition": ["week(ts)"]}""", "week(ts)")]
    [InlineData("""{"name": "k", "partition": ["day(ts)", "day(ts)"]}""", "day(ts)")]
    [InlineData("""{"name": "k", "table": 5}""", "5")]
    [InlineData("""{"name": "k", "rolling": 60}""", "60")]
    public async Task Sinks_with_malformed_partition_terms_or_fields_of_the_wrong_type_are_refused_at_creation(string body, string named)
    {
        var error = (await PostAsync("api/v1/sinks", body, HttpStatusCode.BadRequest)).GetProperty("error").GetString();
        Assert.Contains(named, error);
        Assert.Equal(0, (await Http.GetFromJsonAsync<JsonElement>("api/v1/sinks")).GetProperty("sinks").GetArrayLength());
    }

    [Theory]
    [InlineData("day(nonexist)", "nonexist")]
    [InlineData("day(user)", "day(user)")]
    [InlineData("bucket(4, missing)", "missing")]
    public async Task Partition_terms_naming_columns_the_pipeline_does_not_output_are_refused_when_the_pipeline_is_created(string term, string named)
    {
        await PostAsync("api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long"}, {"name": "ts", "type": "timestamptz"}, {"name": "user", "type": "string"}]}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", $$"""{"name": "k", "partition": ["{{term}}"]}""", HttpStatusCode.Created);
        var error = (await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO k SELECT * FROM events"}""", HttpStatusCode.BadRequest)).GetProperty("error").GetString();
        Assert.Contains(named, error);
        Assert.Equal(0, (await Http.GetFromJsonAsync<JsonElement>("api/v1/pipelines")).GetProperty("pipelines").GetArrayLength());
        // A column the SELECT leaves out is no more there than one the stream lacks.
        await PostAsync("api/v1/sinks", """{"name": "k2", "partition": ["day(ts)"]}""", HttpStatusCode.Created);
        Assert.Contains("'ts'", (await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO k2 SELECT id FROM events"}""", HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO k2 SELECT id, ts FROM events"}""", HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("api/v1/streams", """{"name": "\ud800"}""", "\\ud800")]
    [InlineData("api/v1/streams", """{"name": "s", "schema": {"fields": [{"name": "x\udfff", "type": "long"}]}}""", "\\udfff")]
    [InlineData("api/v1/sinks", """{"name": "k", "type": "files", "path": "raw/\ud800"}""", "\\ud800")]
    [InlineData("api/v1/sinks", """{"\udc00": 1, "name": "k"}""", "property name")]
    [InlineData("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO k SELECT * FROM s WHERE u = '\ud800'"}""", "\\ud800")]
    public async Task Definitions_with_strings_that_are_not_text_get_400_naming_the_escape(string path, string body, string named)
    {
        var error = (await PostAsync(path, body, HttpStatusCode.BadRequest)).GetProperty("error").GetString();
        Assert.Contains(named, error);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
