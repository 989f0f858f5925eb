using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Catalog.Catalogs;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Types;
using DataPlane.TestServices.Readers;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// A file sink's path is a folder of its own: on start it removes the files there that its commits do not name, so a
/// path over a namespace's folder or a table's location would delete that table's files.
/// </summary>
public sealed class FileSinkPathTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pipelines-paths-").FullName;
    private PipelinesHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await PipelinesHost.StartAsync(_dir);
        // The catalog the sinks share: namespace default with table default.events at its default location, and a.b.
        var catalog = Catalog;
        catalog.CreateNamespaceIfMissing(["default"]);
        await catalog.CreateTableAsync(new TableIdentifier(["default"], "events"), new Schema([new NestedField(1, "id", true, PrimitiveType.Long)]));
        catalog.CreateNamespaceIfMissing(["a", "b"]);
    }

    private IcebergCatalog Catalog => _host.Services.GetRequiredService<IcebergCatalog>();
    private HttpClient Http => _host.Client;
    private string Warehouse => Path.Combine(_dir, "warehouse");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        var response = await Http.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path} {body}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement;
    }

    [Theory]
    [InlineData("""{"name": "dump\n", "type": "files", "path": "raw/events"}""")]
    [InlineData("""{"name": "dump", "type": "files", "path": "raw/events\n"}""")]
    [InlineData("""{"name": "dump", "type": "iceberg", "namespace": "raw\n", "table": "events"}""")]
    public async Task A_name_or_path_part_ending_in_a_line_break_is_refused(string body)
    {
        // Names and path parts become folders ('$' matches before a final line break).
        await PostAsync("api/v1/sinks", body, HttpStatusCode.BadRequest);
        Assert.False(Directory.Exists(Path.Combine(Warehouse, "raw", "events\n")));
    }

    [Theory]
    [InlineData("""{"name": "dump", "type": "files", "path": "default"}""", "'default'", "namespace default")]
    [InlineData("""{"name": "default", "type": "files"}""", "'default'", "namespace default")]
    [InlineData("""{"name": "dump", "type": "files", "path": "default/events"}""", "'default/events'", "table default.events")]
    [InlineData("""{"name": "dump", "type": "files", "path": "default/events/data"}""", "'default/events/data'", "table default.events")]
    [InlineData("""{"name": "dump", "type": "files", "path": "default/other"}""", "'default/other'", "namespace default")]
    [InlineData("""{"name": "dump", "type": "files", "path": "a"}""", "'a'", "namespace a")]
    [InlineData("""{"name": "dump", "type": "files", "path": "a/b/c"}""", "'a/b/c'", "namespace a.b")]
    public async Task A_file_sink_over_inside_or_around_a_namespace_folder_or_a_table_location_is_refused(string body, string path, string overlapped)
    {
        var error = (await PostAsync("api/v1/sinks", body, HttpStatusCode.Conflict)).GetProperty("error").GetString();
        Assert.Contains(path, error);
        Assert.Contains(overlapped, error);
        Assert.Equal(0, JsonDocument.Parse(await Http.GetStringAsync("api/v1/sinks")).RootElement.GetProperty("sinks").GetArrayLength());
    }

    [Theory]
    [InlineData("raw/events")]
    [InlineData("raw")]
    [InlineData("raw/events/2026")]
    public async Task Two_file_sinks_may_not_share_or_nest_their_paths(string path)
    {
        await PostAsync("api/v1/sinks", """{"name": "first", "type": "files", "path": "raw/events"}""", HttpStatusCode.Created);
        var error = (await PostAsync("api/v1/sinks", $$"""{"name": "second", "type": "files", "path": "{{path}}"}""", HttpStatusCode.Conflict)).GetProperty("error").GetString();
        Assert.Contains($"'{path}'", error);
        Assert.Contains("sink 'first'", error);
        await PostAsync("api/v1/sinks", """{"name": "third", "type": "files", "path": "raw/clicks"}""", HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("raw/../default")]
    [InlineData("raw/.dataplane")]
    [InlineData("raw/_x")]
    [InlineData("raw events")]
    [InlineData("raw\\\\events")]
    public async Task Paths_that_are_not_plain_folder_names_are_refused_with_400(string path)
    {
        var error = (await PostAsync("api/v1/sinks", $$"""{"name": "dump", "type": "files", "path": "{{path}}"}""", HttpStatusCode.BadRequest)).GetProperty("error").GetString();
        Assert.Contains("Path", error);
    }

    [Fact]
    public async Task A_file_sink_whose_path_became_a_namespace_folder_is_not_started_and_the_namespace_keeps_its_files()
    {
        await PostAsync("api/v1/streams", """{"name": "events", "schema": {"fields": [{"name": "id", "type": "long"}]}}""", HttpStatusCode.Created);
        await PostAsync("api/v1/sinks", """{"name": "dump", "type": "files", "path": "later"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO dump SELECT * FROM events"}""", HttpStatusCode.Created);
        await PostAsync("api/v1/pipelines/p/flush", "", HttpStatusCode.OK);
        await Http.DeleteAsync("api/v1/pipelines/p");

        // Meanwhile the catalog gets a namespace 'later' whose folder is the sink's path, and a table there with two snapshots.
        Catalog.CreateNamespaceIfMissing(["later"]);
        await Catalog.CreateTableAsync(new TableIdentifier(["later"], "t"),
            new Schema([new NestedField(1, "id", true, PrimitiveType.Long), new NestedField(2, "user", false, PrimitiveType.String)]));
        using (var outside = await OutsideWriter.OpenAsync(Http.BaseAddress!, Catalog.Warehouse, "later", "t"))
        {
            await outside.AppendAsync([1, 2, 3]);
            await outside.AppendAsync([4, 5]);
        }
        var tableFiles = Directory.GetFiles(Path.Combine(Warehouse, "later", "t"), "*", SearchOption.AllDirectories);
        var written = await ReadEverySnapshotAsync("later", "t");
        Assert.Equal([3, 5], written.Values.Select(ids => ids.Count));

        var error = (await PostAsync("api/v1/pipelines", """{"name": "p", "sql": "INSERT INTO dump SELECT * FROM events"}""", HttpStatusCode.Conflict)).GetProperty("error").GetString();
        Assert.Contains("namespace later", error);
        // And at start-up: a stored pipeline writing the sink is reported as failed, not started.
        File.WriteAllText(Path.Combine(_dir, "pipelines", "pipelines", "p.json"), """{"name": "p", "sql": "INSERT INTO dump SELECT * FROM events"}""");
        await _host.DisposeAsync();
        _host = await PipelinesHost.StartAsync(_dir);
        var status = JsonDocument.Parse(await Http.GetStringAsync("api/v1/pipelines/p")).RootElement;
        Assert.Equal("failed", status.GetProperty("state").GetString());
        Assert.Contains("namespace later", status.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.All(tableFiles, f => Assert.True(File.Exists(f), $"{f} was deleted"));
        Assert.Equal(written, await ReadEverySnapshotAsync("later", "t"));
    }

    /// <summary>Every snapshot's ids, read by DuckDB over its files and by icebird from the metadata (they must agree).</summary>
    private async Task<Dictionary<long, List<long>>> ReadEverySnapshotAsync(string ns, string name)
    {
        var table = await Catalog.LoadTableAsync(new TableIdentifier([ns], name));
        using var files = new HttpFileServer(Warehouse);
        return await new SnapshotReads(table, Path.Combine(_dir, "fetched"), files: files).EverySnapshotAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
