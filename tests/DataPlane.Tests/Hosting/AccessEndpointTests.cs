using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// <c>GET /api/v1/access</c> tells each token what each API lets it do, by the APIs' own checks, and a pipelines token
/// with ReadOnly may read streams, sinks and pipelines but not change them or ingest (what the console's viewers get).
/// </summary>
public sealed class AccessEndpointTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-access-").FullName;

    [Fact]
    public async Task Each_token_is_told_what_it_may_do_and_a_read_only_pipelines_token_only_reads()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(), "--data", "state"], new Dictionary<string, string>
        {
            ["DATAPLANE_PIPELINES__TOKENS__0__TOKEN"] = "admin",
            ["DATAPLANE_PIPELINES__TOKENS__1__TOKEN"] = "viewer",
            ["DATAPLANE_PIPELINES__TOKENS__1__READONLY"] = "true",
            ["DATAPLANE_PIPELINES__TOKENS__2__TOKEN"] = "producer",
            ["DATAPLANE_PIPELINES__TOKENS__2__INGESTONLY"] = "true",
            ["DATAPLANE_CATALOG__TOKENS__0__TOKEN"] = "admin",
            ["DATAPLANE_CATALOG__TOKENS__1__TOKEN"] = "viewer",
            ["DATAPLANE_CATALOG__TOKENS__1__READONLY"] = "true",
            ["DATAPLANE_DATABASES__ADMINTOKEN"] = "admin",
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        async Task<string> AccessAsync(string? token)
        {
            var (status, body) = await SendAsync(http, HttpMethod.Get, "api/v1/access", token, null);
            Assert.Equal(HttpStatusCode.OK, status);
            return $"{body.GetProperty("pipelines").GetString()} {body.GetProperty("catalog").GetString()} {body.GetProperty("databases").GetString()} {body.GetProperty("metrics").GetBoolean()}";
        }
        Assert.Equal("manage write manage True", await AccessAsync("admin"));
        Assert.Equal("read read none True", await AccessAsync("viewer"));
        Assert.Equal("ingest none none False", await AccessAsync("producer"));
        Assert.Equal("none none none False", await AccessAsync(null));
        Assert.Equal("none none none False", await AccessAsync("guess"));

        const string stream = """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""";
        var (viewerCreates, refusal) = await SendAsync(http, HttpMethod.Post, "api/v1/streams", "viewer", stream);
        Assert.Equal(HttpStatusCode.Forbidden, viewerCreates);
        Assert.Contains("read-only", refusal.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, HttpMethod.Post, "api/v1/streams", "admin", stream)).Status);
        var (viewerReads, list) = await SendAsync(http, HttpMethod.Get, "api/v1/streams", "viewer", null);
        Assert.Equal(HttpStatusCode.OK, viewerReads);
        Assert.Equal("events", list.GetProperty("streams")[0].GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Delete, "api/v1/streams/events", "viewer", null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Post, "streams/events", "viewer", """{"id": 1}""")).Status);
        var (_, described) = await SendAsync(http, HttpMethod.Get, "api/v1/streams/events", "viewer", null);
        Assert.Equal(0, described.GetProperty("log").GetProperty("end_offset").GetInt64());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Post, "streams/events", "producer", """{"id": 1}""")).Status);
    }

    [Fact]
    public async Task A_token_both_ingest_only_and_read_only_stops_serve_naming_it()
    {
        var port = DataPlaneProcess.FreePort();
        await using var serve = DataPlaneProcess.Start(["serve", "--port", port.ToString(), "--data", "state"], _workDir, new Dictionary<string, string>
        {
            ["DATAPLANE_PIPELINES__TOKENS__0__TOKEN"] = "odd",
            ["DATAPLANE_PIPELINES__TOKENS__0__INGESTONLY"] = "true",
            ["DATAPLANE_PIPELINES__TOKENS__0__READONLY"] = "true",
        });
        Assert.Equal(2, await serve.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Pipelines:Tokens:0 is both IngestOnly and ReadOnly", serve.Output);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? token, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
