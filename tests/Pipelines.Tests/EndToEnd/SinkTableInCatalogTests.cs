using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>A pipeline's Iceberg sink writes into the same catalog `dataplane serve` offers at <c>/iceberg/v1</c>,
/// so any Iceberg engine finds, loads and reads the table there.</summary>
public sealed class SinkTableInCatalogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-catalog-").FullName;
    private readonly int _port = DataPlaneProcess.FreePort();

    private Task<DataPlaneProcess> StartServerAsync() =>
        DataPlaneProcess.StartServerAsync(_dir, _port, ["serve", "--port", _port.ToString(CultureInfo.InvariantCulture), "--data", _dir, "--log-format", "simple"]);

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task PostAsync(HttpClient http, string path, string body, HttpStatusCode expected)
    {
        var response = await http.PostAsync(path, Json(body));
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static string Records(long first, int count) => string.Concat(Enumerable.Range(0, count).Select(i =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{first + i}}, "ts": "2026-03-0{{1 + i % 2}}T10:00:00Z", "user": "u{{i % 7}}"}""") + "\n"));

    private static async Task<long> FlushAsync(HttpClient http)
    {
        var response = await http.PostAsync("api/v1/pipelines/clicks_pipeline/flush", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("snapshot_id").GetInt64();
    }

    [Fact]
    public async Task A_flush_while_the_sinks_table_is_dropped_answers_409_with_the_cause_instead_of_waiting()
    {
        await using var server = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await PostAsync(http, "api/v1/streams", """{"name": "clicks", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "ts", "type": "timestamptz"}, {"name": "user", "type": "string"}]}}""", HttpStatusCode.Created);
        await PostAsync(http, "api/v1/sinks", """{"name": "clicks_table", "type": "iceberg", "namespace": "web", "table": "clicks"}""", HttpStatusCode.Created);
        await PostAsync(http, "api/v1/pipelines", """{"name": "clicks_pipeline", "sql": "INSERT INTO clicks_table SELECT * FROM clicks"}""", HttpStatusCode.Created);
        await PostAsync(http, "streams/clicks", Records(0, 10), HttpStatusCode.OK);
        await FlushAsync(http);

        // Someone drops the table; the pipeline cannot commit what comes next, and says so to whoever waits for it.
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("iceberg/v1/namespaces/web/tables/clicks")).StatusCode);
        await PostAsync(http, "streams/clicks", Records(10, 10), HttpStatusCode.OK);
        var flush = await http.PostAsync("api/v1/pipelines/clicks_pipeline/flush", null);
        var text = await flush.Content.ReadAsStringAsync();
        Assert.True(flush.StatusCode == HttpStatusCode.Conflict, $"{(int)flush.StatusCode} {text}");
        Assert.Contains("dropped", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
        var described = JsonDocument.Parse(await http.GetStringAsync("api/v1/pipelines/clicks_pipeline")).RootElement;
        Assert.Equal(20, described.GetProperty("offsets").GetProperty("stream_end").GetInt64()); // the records stay in the log
    }

    [Fact]
    public async Task The_sinks_table_is_listed_and_loaded_through_the_rest_catalog_and_its_files_read_by_duckdb()
    {
        long snapshotId;
        await using (var server = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await PostAsync(http, "api/v1/streams", """
                {"name": "clicks", "schema": {"fields": [
                  {"name": "id", "type": "long", "required": true}, {"name": "ts", "type": "timestamptz"}, {"name": "user", "type": "string"}]}}
                """, HttpStatusCode.Created);
            // The namespace does not exist yet: the sink creates it with the table.
            await PostAsync(http, "api/v1/sinks", """{"name": "clicks_table", "type": "iceberg", "namespace": "web", "table": "clicks", "partition": ["day(ts)"]}""", HttpStatusCode.Created);
            await PostAsync(http, "api/v1/pipelines", """{"name": "clicks_pipeline", "sql": "INSERT INTO clicks_table SELECT * FROM clicks"}""", HttpStatusCode.Created);
            await PostAsync(http, "streams/clicks", Records(0, 500), HttpStatusCode.OK);
            await PostAsync(http, "streams/clicks", Records(500, 250), HttpStatusCode.OK);
            snapshotId = await FlushAsync(http);

            var namespaces = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces")).RootElement;
            Assert.Contains(namespaces.GetProperty("namespaces").EnumerateArray(), ns => ns[0].GetString() == "web");
            var tables = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces/web/tables")).RootElement;
            var identifier = Assert.Single(tables.GetProperty("identifiers").EnumerateArray());
            Assert.Equal("clicks", identifier.GetProperty("name").GetString());

            var loaded = JsonDocument.Parse(await http.GetStringAsync("iceberg/v1/namespaces/web/tables/clicks")).RootElement;
            var metadataLocation = loaded.GetProperty("metadata-location").GetString()!;
            Assert.Equal(snapshotId, loaded.GetProperty("metadata").GetProperty("current-snapshot-id").GetInt64());
            Assert.True(File.Exists(new Uri(metadataLocation).LocalPath), $"{metadataLocation} is not a file");

            // A reader starting from the catalog: the table library over the REST answer, DuckDB over the planned files.
            var table = await TableContents.LoadThroughRestAsync(server.BaseAddress, "web.clicks");
            Assert.Equal(metadataLocation, table.State.MetadataLocation);
            var files = await TableContents.LiveFilesAsync(table);
            Assert.Equal([750L, 750L, 749L * 750 / 2], TableContents.Query(files,
                "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows UNION ALL SELECT sum(id)::BIGINT FROM rows").ToArray()[..3]);
            Assert.Equal(["day"], table.Spec.Fields.Select(f => f.Transform.ToString()).ToArray());
        }

        // After a restart the pipeline resumes from the offsets in the table's last snapshot: nothing is written twice.
        await using (var server = await StartServerAsync())
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await PostAsync(http, "streams/clicks", Records(750, 250), HttpStatusCode.OK);
            var second = await FlushAsync(http);
            Assert.NotEqual(snapshotId, second);
            var table = await TableContents.LoadThroughRestAsync(server.BaseAddress, "web.clicks");
            Assert.Equal(second, table.Metadata.CurrentSnapshotId);
            Assert.Equal("1000", table.Metadata.CurrentSnapshot!.Summary["dataplane.end-offset"]);
            var files = await TableContents.LiveFilesAsync(table);
            Assert.Equal([1000L, 1000L], TableContents.Query(files, "SELECT count(*) FROM rows UNION ALL SELECT count(DISTINCT id) FROM rows").ToArray()[..2]);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
