using System.Globalization;
using System.Net;
using System.Text;
using DataPlane.Http;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// <c>GET /metrics</c> of a real <c>dataplane serve</c>: counters move by what was ingested and committed, and latencies are
/// Prometheus histograms (cumulative buckets at the documented bounds, a sum and a count) that a scraper can aggregate.
/// </summary>
public sealed class MetricsScrapeTests : IDisposable
{
    private const string Pipelines = "otel_scope_name=\"DataPlane.Pipelines\"";
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-scrape-").FullName;

    [Fact]
    public async Task Ingest_and_commit_move_the_counters_and_fill_the_latency_histograms()
    {
        var port = DataPlaneProcess.FreePort();
        await using var server = await DataPlaneProcess.StartServerAsync(_workDir, port, ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", "state"]);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await PostAsync(http, "api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long", "required": true}]}}""");
        await PostAsync(http, "api/v1/sinks", """{"name": "events_table", "type": "iceberg", "namespace": "default", "table": "events"}""");
        await PostAsync(http, "api/v1/pipelines", """{"name": "copy", "sql": "INSERT INTO events_table SELECT * FROM events"}""");

        long bytes = 0;
        for (int request = 0; request < 4; request++)
            bytes += await PostAsync(http, "streams/events", "[" + string.Join(",", Enumerable.Range(request * 5, 5).Select(i => $"{{\"id\":{i}}}")) + "]");
        var first = await ScrapeAsync(http);
        Assert.Equal(20, first[$"dataplane_stream_records_in_total{{{Pipelines},stream=\"events\"}}"]);
        Assert.Equal(bytes, first[$"dataplane_stream_bytes_in_total{{{Pipelines},stream=\"events\"}}"]);
        AssertHistogram(first, "dataplane_stream_ack_seconds", $"{Pipelines},stream=\"events\"", count: 4);

        bytes += await PostAsync(http, "streams/events", """[{"id":100},{"id":101},{"id":102}]""");
        await PostAsync(http, "api/v1/pipelines/copy/flush", "{}");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var second = await ScrapeAsync(http);
        while (second.GetValueOrDefault($"dataplane_pipeline_records_out_total{{{Pipelines},pipeline=\"copy\"}}") < 23 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            second = await ScrapeAsync(http);
        }
        Assert.Equal(23, second[$"dataplane_stream_records_in_total{{{Pipelines},stream=\"events\"}}"]);
        Assert.Equal(bytes, second[$"dataplane_stream_bytes_in_total{{{Pipelines},stream=\"events\"}}"]);
        AssertHistogram(second, "dataplane_stream_ack_seconds", $"{Pipelines},stream=\"events\"", count: 5);
        Assert.Equal(23, second[$"dataplane_pipeline_records_out_total{{{Pipelines},pipeline=\"copy\"}}"]);
        long commits = (long)second[$"dataplane_pipeline_commits_total{{{Pipelines},pipeline=\"copy\"}}"];
        Assert.True(commits >= 1);
        AssertHistogram(second, "dataplane_pipeline_commit_seconds", $"{Pipelines},pipeline=\"copy\"", count: commits);
    }

    /// <summary>One bucket per documented bound and +Inf, cumulative, +Inf equal to the count, and a sum of positive latencies.</summary>
    private static void AssertHistogram(Dictionary<string, double> samples, string name, string labels, long count)
    {
        var bounds = PrometheusMetrics.LatencyBuckets.Select(b => b.ToString(CultureInfo.InvariantCulture)).Append("+Inf").ToList();
        var buckets = bounds.Select(le => samples[$"{name}_bucket{{{labels},le=\"{le}\"}}"]).ToList();
        for (int i = 1; i < buckets.Count; i++) Assert.True(buckets[i] >= buckets[i - 1], $"{name}: bucket le={bounds[i]} is below le={bounds[i - 1]}");
        Assert.Equal(count, samples[$"{name}_count{{{labels}}}"]);
        Assert.Equal(count, buckets[^1]);
        Assert.True(samples[$"{name}_sum{{{labels}}}"] > 0);
        Assert.Equal(bounds.Count, samples.Keys.Count(k => k.StartsWith($"{name}_bucket{{{labels},", StringComparison.Ordinal)));
    }

    /// <summary>The scrape's samples by series (<c>name{labels}</c>), in the text format's order of labels.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        var response = await http.GetAsync("metrics");
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            int space = line.LastIndexOf(' ');
            samples.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }
        return samples;
    }

    private static async Task<long> PostAsync(HttpClient http, string path, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var response = await http.PostAsync(path, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
        Assert.True(response.IsSuccessStatusCode, $"{path}: {await response.Content.ReadAsStringAsync()}");
        return body.Length;
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
