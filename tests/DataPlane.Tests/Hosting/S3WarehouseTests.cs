using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;

namespace DataPlane.Tests.Hosting;

/// <summary>
/// `dataplane serve` with its warehouse on a real S3 server (the scaled-out shape of docker-compose.yml): a pipeline's
/// snapshots land as objects there, the REST catalog tells readers how to reach them, and an independent reader
/// (icebird) follows that answer to the rows, before and after a restart of the server.
/// </summary>
public sealed class S3WarehouseTests(S3ServerFixture s3) : IClassFixture<S3ServerFixture>, IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("dataplane-s3-warehouse-").FullName;

    [Fact]
    public async Task Pipeline_snapshots_land_in_the_s3_warehouse_and_readers_reach_them_through_the_catalogs_answer()
    {
        var bucket = await s3.CreateBucketAsync("lake");
        var endpoint = new Uri(s3.Endpoint);
        // DataPlane reaches the server by name, readers by address: the catalog must tell readers theirs.
        var readerEndpoint = $"http://127.0.0.1:{endpoint.Port}";
        var environment = new Dictionary<string, string>
        {
            ["DATAPLANE_WAREHOUSE"] = $"s3://{bucket}/warehouse",
            ["DATAPLANE_S3__ENDPOINT"] = endpoint.IsLoopback ? $"http://localhost:{endpoint.Port}" : s3.Endpoint,
            ["DATAPLANE_S3__ACCESSKEY"] = s3.AccessKey,
            ["DATAPLANE_S3__SECRETKEY"] = s3.SecretKey,
            ["DATAPLANE_S3__REGION"] = s3.Region,
            ["DATAPLANE_CATALOG__S3ENDPOINT"] = endpoint.IsLoopback ? readerEndpoint : s3.Endpoint,
        };
        var port = DataPlaneProcess.FreePort();
        string[] serve = ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", "state"];

        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, serve, environment))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            await PostAsync(http, "api/v1/streams", """{"name":"events","schema":{"fields":[{"name":"id","type":"long","required":true},{"name":"ts","type":"timestamptz"},{"name":"user","type":"string"}]}}""");
            await PostAsync(http, "api/v1/sinks", """{"name":"events_table","type":"iceberg","namespace":"default","table":"events","partition":["day(ts)"]}""");
            await PostAsync(http, "api/v1/pipelines", """{"name":"events_pipeline","sql":"INSERT INTO events_table SELECT * FROM events"}""");
            await IngestAsync(http, 0, 600);
            await PostAsync(http, "api/v1/pipelines/events_pipeline/flush", "");

            var (metadataLocation, config) = await LoadTableAsync(http);
            Assert.StartsWith($"s3://{bucket}/warehouse/default/events/metadata/", metadataLocation);
            Assert.Equal(environment["DATAPLANE_CATALOG__S3ENDPOINT"], config.GetProperty("s3.endpoint").GetString());
            Assert.Equal("true", config.GetProperty("s3.path-style-access").GetString());
            Assert.False(config.TryGetProperty("s3.access-key-id", out _), "keys are vended only when configured and asked for");
            await AssertRowsAsync(metadataLocation, config, 600);
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        // A restarted server finds the table where it left it and appends the next snapshot to it.
        await using (var server = await DataPlaneProcess.StartServerAsync(_workDir, port, serve, environment))
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            await IngestAsync(http, 600, 400);
            await PostAsync(http, "api/v1/pipelines/events_pipeline/flush", "");

            var (metadataLocation, config) = await LoadTableAsync(http);
            await AssertRowsAsync(metadataLocation, config, 1000);

            // The CLI reads through the same answer; without vended or local keys it says which to give.
            string[] scan = ["table", "scan", "default.events", "--server", server.BaseAddress.ToString()];
            await using (var cli = DataPlaneProcess.Start(scan, _workDir, new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "", ["AWS_SECRET_ACCESS_KEY"] = "" }))
            {
                Assert.NotEqual(0, await cli.WaitAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains("AWS_ACCESS_KEY_ID", cli.Output);
                Assert.Contains($"s3://{bucket}/warehouse/default/events", cli.Output);
            }
            await using (var cli = DataPlaneProcess.Start(scan, _workDir, new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = s3.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = s3.SecretKey }))
            {
                Assert.True(await cli.WaitAsync(TimeSpan.FromSeconds(60)) == 0, cli.Output);
                Assert.Contains("1000 record(s)", cli.Output);
            }
            Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
    }

    private static async Task IngestAsync(HttpClient http, int first, int count)
    {
        var body = new StringBuilder();
        for (var id = first; id < first + count; id++)
            body.Append(CultureInfo.InvariantCulture, $$"""{"id":{{id}},"ts":"2026-11-{{20 + id % 5}}T10:00:00Z","user":"u{{id}}"}""").Append('\n');
        using var response = await http.PostAsync("streams/events", new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(string MetadataLocation, JsonElement Config)> LoadTableAsync(HttpClient http)
    {
        using var response = await http.GetAsync("iceberg/v1/namespaces/default/tables/events");
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        var root = JsonDocument.Parse(json).RootElement;
        return (root.GetProperty("metadata-location").GetString()!, root.GetProperty("config").Clone());
    }

    /// <summary>icebird reads the table from the metadata file the catalog named, through the endpoint it gave.</summary>
    private static async Task AssertRowsAsync(string metadataLocation, JsonElement config, int expected)
    {
        var metadataFolder = metadataLocation[..metadataLocation.LastIndexOf('/')];
        var tableLocation = metadataFolder[..metadataFolder.LastIndexOf('/')];
        var rows = await Icebird.ReadAsync(tableLocation, metadataLocation[(metadataFolder.Length + 1)..],
            new Uri(config.GetProperty("s3.endpoint").GetString()!));

        Assert.Equal(expected, rows.Count);
        var ids = rows.Select(r => long.Parse(r.GetProperty("id").GetString()!, CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, expected).Select(i => (long)i), ids);
        var sample = rows.Single(r => r.GetProperty("id").GetString() == "7");
        Assert.Equal("u7", sample.GetProperty("user").GetString());
        Assert.Equal("2026-11-22T10:00:00.000Z", sample.GetProperty("ts").GetString());
    }

    private static async Task PostAsync(HttpClient http, string path, string json)
    {
        using var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }
}
