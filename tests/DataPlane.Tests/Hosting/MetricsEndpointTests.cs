using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using DataPlane.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>The host's one <c>GET /metrics</c>: every area's families in a single Prometheus text document.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dataplane-metrics-").FullName;
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = ServerHost.Build(new DataPlaneOptions { Host = "127.0.0.1", Port = 0, Data = _dir, LogFormat = "simple" });
        await _app.StartAsync();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient { BaseAddress = new Uri(address.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    private async Task PostAsync(string path, string json, HttpStatusCode expected)
    {
        var response = await _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Metrics_is_one_document_with_stream_counters_and_replica_lag_per_database_and_replica()
    {
        await PostAsync("api/v1/streams", """{"name":"events","schema":{"fields":[{"name":"id","type":"long","required":true}]}}""", HttpStatusCode.Created);
        await PostAsync("streams/events", """[{"id":1},{"id":2},{"id":3}]""", HttpStatusCode.OK);
        await PostAsync("api/v1/databases", """{"name":"app","replicas":2}""", HttpStatusCode.Created);
        await PostAsync("db/app/query", """{"sql":"CREATE TABLE t(x)"}""", HttpStatusCode.OK);
        await PostAsync("db/app/query", """{"sql":"INSERT INTO t VALUES (1), (2)"}""", HttpStatusCode.OK);

        var response = await _http.GetAsync("metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("dataplane_stream_records_in_total{otel_scope_name=\"DataPlane.Pipelines\",stream=\"events\"} 3\n", text);
        Assert.Contains("dataplane_db_primary_position{otel_scope_name=\"DataPlane.Databases\",database=\"app\"} 2\n", text);
        Assert.Contains("dataplane_db_log_syncs_total{otel_scope_name=\"DataPlane.Databases\",database=\"app\"} 2\n", text);
        foreach (string replica in new[] { "app-r1", "app-r2" })
        {
            string labels = $"{{otel_scope_name=\"DataPlane.Databases\",database=\"app\",kind=\"in-process\",replica=\"{replica}\"}}";
            Assert.Matches(new Regex($"dataplane_db_replica_applied_position{Regex.Escape(labels)} [0-2]\n"), text);
            Assert.Matches(new Regex($"dataplane_db_replica_lag_positions{Regex.Escape(labels)} [0-2]\n"), text);
            Assert.Matches(new Regex($"dataplane_db_replica_lag_milliseconds{Regex.Escape(labels)} [0-9.]+\n"), text);
        }
        // One document: each family declared once, every sample line under a declared family.
        var declared = Regex.Matches(text, "^# TYPE (\\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(declared.Count, declared.Distinct().Count());
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            string name = Regex.Match(line, "^[a-zA-Z_:][a-zA-Z0-9_:]*").Value;
            Assert.Contains(declared, family => name == family || name.StartsWith(family + "_", StringComparison.Ordinal));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("metrics/databases")).StatusCode);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
