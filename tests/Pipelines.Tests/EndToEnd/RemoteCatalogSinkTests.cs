using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>
/// A pipeline in one process committing to a table of the catalog another process serves (a real <c>dataplane serve</c>),
/// through the Iceberg REST API (<c>RemoteCatalog</c>), its files written into the warehouse the two share; that catalog's
/// own pipeline writes the same table meanwhile. Every record is read back exactly once.
/// </summary>
public sealed class RemoteCatalogSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-remote-catalog-").FullName;

    private string CatalogData => Path.Combine(_dir, "catalog-process");
    private string Warehouse => Path.Combine(CatalogData, "warehouse");
    private string WorkerData => Path.Combine(_dir, "worker");

    private async Task<DataPlaneProcess> StartCatalogProcessAsync()
    {
        Directory.CreateDirectory(CatalogData);
        int port = DataPlaneProcess.FreePort();
        return await DataPlaneProcess.StartServerAsync(CatalogData, port,
            ["serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", CatalogData, "--log-format", "simple"]);
    }

    private Task<PipelinesHost> StartWorkerAsync(Uri catalogServer) =>
        PipelinesHost.StartAsync(WorkerData, warehouse: Warehouse, remoteCatalog: new Uri(catalogServer, "iceberg"));

    private static async Task PostAsync(HttpClient http, string path, string body, HttpStatusCode expected)
    {
        var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A stream, an Iceberg sink of table web.clicks named <paramref name="sink"/>, and a pipeline from one to the other.</summary>
    private static async Task DefineAsync(HttpClient http, string sink, string pipeline)
    {
        await PostAsync(http, "api/v1/streams", """{"name": "clicks", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}""",
            HttpStatusCode.Created);
        await PostAsync(http, "api/v1/sinks", $$"""{"name": "{{sink}}", "type": "iceberg", "namespace": "web", "table": "clicks"}""", HttpStatusCode.Created);
        await PostAsync(http, "api/v1/pipelines", $$"""{"name": "{{pipeline}}", "sql": "INSERT INTO {{sink}} SELECT * FROM clicks"}""", HttpStatusCode.Created);
    }

    private static Task SendAsync(HttpClient http, long first, int count) =>
        PostAsync(http, "streams/clicks", string.Concat(Enumerable.Range(0, count).Select(i =>
            string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{first + i}}, "user": "u{{i % 7}}"}""") + "\n")), HttpStatusCode.OK);

    private static async Task<long> FlushAsync(HttpClient http, string pipeline)
    {
        var response = await http.PostAsync($"api/v1/pipelines/{pipeline}/flush", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"flush of {pipeline}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("snapshot_id").GetInt64();
    }

    /// <summary>Count, distinct count and sum of the ids in the table's live files, read by DuckDB from the catalog's answer.</summary>
    private static async Task<long[]> ReadIdsAsync(Uri catalogServer)
    {
        var table = await TableContents.LoadThroughRestAsync(catalogServer, "web.clicks");
        var files = await TableContents.LiveFilesAsync(table);
        return TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT sum(id)::BIGINT FROM rows").ToArray();
    }

    private static long Sum(long first, int count) => count * first + (long)count * (count - 1) / 2;

    [Fact]
    public async Task A_pipeline_commits_through_another_process_catalog_beside_its_own_pipeline_and_resumes_from_the_table_after_a_restart()
    {
        await using var catalogProcess = await StartCatalogProcessAsync();
        using var catalogHttp = new HttpClient { BaseAddress = catalogProcess.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        long expectedCount = 0, expectedSum = 0;
        var workerSnapshots = new List<long>();

        await using (var worker = await StartWorkerAsync(catalogProcess.BaseAddress))
        {
            // The worker's pipeline starts first: it creates web.clicks (and web) through the REST API.
            await DefineAsync(worker.Client, "remote_clicks", "remote_pipeline");
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while ((await catalogHttp.GetAsync("iceberg/v1/namespaces/web/tables/clicks")).StatusCode != HttpStatusCode.OK)
            {
                Assert.True(DateTime.UtcNow < deadline, "The worker's pipeline did not create web.clicks in the catalog process within a minute:\n" + string.Join("\n", worker.Logs.Lines));
                await Task.Delay(50);
            }
            await DefineAsync(catalogHttp, "local_clicks", "local_pipeline");
            for (int round = 0; round < 3; round++)
            {
                await SendAsync(worker.Client, round * 1_000, 300);
                workerSnapshots.Add(await FlushAsync(worker.Client, "remote_pipeline"));
                await SendAsync(catalogHttp, 1_000_000 + round * 1_000, 200);
                await FlushAsync(catalogHttp, "local_pipeline");
                expectedCount += 500;
                expectedSum += Sum(round * 1_000, 300) + Sum(1_000_000 + round * 1_000, 200);
            }
        }
        Assert.Equal([expectedCount, expectedCount, expectedSum], await ReadIdsAsync(catalogProcess.BaseAddress));

        // A new worker process over the same data resumes after the offsets of its sink's last snapshot, read through the
        // REST API from the table's history (another writer committed after it): nothing is written twice or skipped.
        await using (var worker = await StartWorkerAsync(catalogProcess.BaseAddress))
        {
            await SendAsync(worker.Client, 3_000, 300);
            workerSnapshots.Add(await FlushAsync(worker.Client, "remote_pipeline"));
            expectedCount += 300;
            expectedSum += Sum(3_000, 300);
        }
        Assert.Equal([expectedCount, expectedCount, expectedSum], await ReadIdsAsync(catalogProcess.BaseAddress));

        var table = await TableContents.LoadThroughRestAsync(catalogProcess.BaseAddress, "web.clicks");
        var bySink = table.Metadata.Snapshots.Where(s => s.Summary.ContainsKey("dataplane.sink")).ToLookup(s => s.Summary["dataplane.sink"]);
        Assert.Equal(workerSnapshots, bySink["remote_clicks"].Select(s => s.SnapshotId).ToList());
        Assert.Equal(["300", "600", "900", "1200"], bySink["remote_clicks"].Select(s => s.Summary["dataplane.end-offset"]).ToArray());
        Assert.Equal(3, bySink["local_clicks"].Count());
    }

    [Fact]
    public async Task A_commit_refused_with_409_because_another_writer_moved_the_table_is_applied_again_on_the_new_snapshot()
    {
        await using var catalogProcess = await StartCatalogProcessAsync();
        using var catalogHttp = new HttpClient { BaseAddress = catalogProcess.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await DefineAsync(catalogHttp, "local_clicks", "local_pipeline");
        await SendAsync(catalogHttp, 1_000_000, 100);
        long first = await FlushAsync(catalogHttp, "local_pipeline"); // creates web.clicks

        await using var proxy = await CatalogProxy.StartAsync(catalogProcess.BaseAddress);
        await using var worker = await StartWorkerAsync(proxy.Address);
        await DefineAsync(worker.Client, "remote_clicks", "remote_pipeline");
        await SendAsync(worker.Client, 0, 250);
        long other = 0;
        // The worker has loaded the table at the first snapshot and sends its append resting on it; just before it
        // arrives, the catalog process's own pipeline commits.
        proxy.BeforeNextCommit(async () =>
        {
            await SendAsync(catalogHttp, 1_000_100, 50);
            other = await FlushAsync(catalogHttp, "local_pipeline");
        });
        long mine = await FlushAsync(worker.Client, "remote_pipeline");

        Assert.Equal([(409, "CommitFailedException"), (200, null)], proxy.Commits.ToArray());
        Assert.NotEqual(first, other);
        var table = await TableContents.LoadThroughRestAsync(catalogProcess.BaseAddress, "web.clicks");
        Assert.Equal(mine, table.Metadata.CurrentSnapshotId);
        Assert.Equal(other, table.Metadata.Snapshot(mine)!.ParentSnapshotId); // rebased onto the other writer's snapshot
        Assert.Equal(first, table.Metadata.Snapshot(other)!.ParentSnapshotId);
        Assert.Equal([400L, 400L, Sum(0, 250) + Sum(1_000_000, 150)], await ReadIdsAsync(catalogProcess.BaseAddress));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
