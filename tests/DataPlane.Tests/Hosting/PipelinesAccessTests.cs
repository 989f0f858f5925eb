using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// The streams, sinks and pipelines API behind Pipelines:Tokens: a producer's ingest-only token may send records and
/// nothing else, a full token manages, and requests without a valid token are refused before they touch anything.
/// </summary>
public sealed class PipelinesAccessTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-pipelines-access-").FullName;

    [Fact]
    public async Task Tokens_guard_ingestion_and_management_and_the_cli_sends_DATAPLANE_TOKEN()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"], new Dictionary<string, string>
        {
            ["DATAPLANE_PIPELINES__ALLOWANONYMOUS"] = "false",
            ["DATAPLANE_PIPELINES__TOKENS__0__TOKEN"] = "admin-secret",
            ["DATAPLANE_PIPELINES__TOKENS__1__TOKEN"] = "producer-secret",
            ["DATAPLANE_PIPELINES__TOKENS__1__INGESTONLY"] = "true",
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        const string stream = """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""";

        var anonymous = await SendAsync(http, HttpMethod.Post, "api/v1/streams", null, stream);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Contains("Authorization: Bearer", anonymous.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Post, "api/v1/streams", "guess", stream)).Status);
        var producerManaging = await SendAsync(http, HttpMethod.Post, "api/v1/streams", "producer-secret", stream);
        Assert.Equal(HttpStatusCode.Forbidden, producerManaging.Status);
        Assert.Contains("may only ingest", producerManaging.Error);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, HttpMethod.Post, "api/v1/streams", "admin-secret", stream)).Status);

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, HttpMethod.Post, "streams/events", null, """{"id": 1}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Post, "streams/events", "producer-secret", """{"id": 2}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Post, "streams/events", "admin-secret", """{"id": 3}""")).Status);
        var described = await SendAsync(http, HttpMethod.Get, "api/v1/streams/events", "admin-secret", null);
        Assert.Equal(2, described.Body.GetProperty("log").GetProperty("end_offset").GetInt64());

        await using (var cli = DataPlaneProcess.Start(["stream", "list", "--server", server.BaseAddress.ToString()], _workDir, new Dictionary<string, string> { ["DATAPLANE_TOKEN"] = "" }))
        {
            Assert.NotEqual(0, await cli.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("needs a token", cli.Output);
        }
        await using (var cli = DataPlaneProcess.Start(["stream", "list", "--server", server.BaseAddress.ToString()], _workDir, new Dictionary<string, string> { ["DATAPLANE_TOKEN"] = "admin-secret" }))
        {
            Assert.True(await cli.WaitAsync(TimeSpan.FromSeconds(60)) == 0, cli.Output);
            Assert.Contains("events", cli.Output);
        }
        Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_token_without_a_value_stops_serve_naming_the_setting()
    {
        var port = DataPlaneProcess.FreePort();
        await using var serve = DataPlaneProcess.Start(["serve", "--port", port.ToString(), "--data", "state"], _workDir,
            new Dictionary<string, string> { ["DATAPLANE_PIPELINES__TOKENS__0__INGESTONLY"] = "true" });

        Assert.Equal(2, await serve.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("DATAPLANE_PIPELINES__TOKENS__0__TOKEN", serve.Output);
    }

    private static async Task<(HttpStatusCode Status, string Error, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? token, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
        var error = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var e) ? e.GetString() ?? "" : "";
        return (response.StatusCode, error, body);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
