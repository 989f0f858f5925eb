using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataPlane.Pipelines.Tests.EndToEnd;
using DataPlane.Storage;
using DataPlane.TestServices;
using DataPlane.TestServices.Readers;
using Xunit;

namespace DataPlane.Pipelines.Tests.Sinks;

/// <summary>
/// One Iceberg table, <c>default.events</c> (<c>id</c> long, <c>user</c> string), written by pipelines through sinks and
/// by an <see cref="OutsideWriter"/> through the REST catalog, on a <see cref="PipelinesHost"/> that can be restarted over
/// the same data folder; the warehouse is local or on a real S3 server.
/// </summary>
internal sealed class SharedTable : IAsyncDisposable
{
    private readonly S3Server? _s3;
    private readonly string? _bucket;
    private readonly Action<PipelinesOptions>? _configure;
    private HttpFileServer? _files;

    private SharedTable(string directory, S3Server? s3, string? bucket, Action<PipelinesOptions>? configure)
    {
        Directory = directory;
        _s3 = s3;
        _bucket = bucket;
        _configure = configure;
        Warehouse = s3 is null ? ObjectStore.Open(WarehousePath) : ObjectStore.Open(WarehouseLocation!, S3Options);
    }

    public string Directory { get; }
    public PipelinesHost Host { get; private set; } = null!;
    // (null until the first start; a restart keeps the port, so the outside writer's catalog address stays valid)
    public HttpClient Http => Host.Client;
    /// <summary>The warehouse as the outside writer and the readers open it.</summary>
    public IObjectStore Warehouse { get; }
    private string WarehousePath => Path.Combine(Directory, "warehouse");
    private string? WarehouseLocation => _bucket is null ? null : $"s3://{_bucket}/warehouse";
    private S3Options? S3Options => _s3 is null ? null : new S3Options { Endpoint = _s3.Endpoint, AccessKey = _s3.AccessKey, SecretKey = _s3.SecretKey, Region = _s3.Region };

    /// <param name="s3">Put the warehouse in a new bucket of this server instead of the data folder.</param>
    public static async Task<SharedTable> StartAsync(string directory, S3Server? s3 = null, Action<PipelinesOptions>? configure = null)
    {
        var bucket = s3 is null ? null : await s3.CreateBucketAsync("sink-cleanup");
        var shared = new SharedTable(directory, s3, bucket, configure);
        await shared.StartHostAsync();
        return shared;
    }

    private async Task StartHostAsync() =>
        Host = await PipelinesHost.StartAsync(Directory, _configure, WarehouseLocation, S3Options, Host?.Client.BaseAddress!.Port ?? 0);

    /// <summary>Stops the server (its pipelines stop, as on a shutdown) and starts it again over the same data.</summary>
    /// <param name="whileStopped">Runs between the two, e.g. to leave the data as a crash would have.</param>
    public async Task RestartAsync(Action? whileStopped = null)
    {
        await Host.DisposeAsync();
        whileStopped?.Invoke();
        await StartHostAsync();
    }

    public async Task<JsonElement> PostAsync(string path, string body, HttpStatusCode expected)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task CreateStreamAsync(string name) => PostAsync("api/v1/streams", $$$"""
        {"name": "{{{name}}}", "schema": {"fields": [{"name": "id", "type": "long", "required": true}, {"name": "user", "type": "string"}]}}
        """, HttpStatusCode.Created);

    /// <summary>A sink into <c>default.events</c>; without a rolling policy it commits on flush only.</summary>
    public Task CreateSinkAsync(string name, string rolling = """{"interval_seconds": 3600}""") =>
        PostAsync("api/v1/sinks", $$"""{"name": "{{name}}", "type": "iceberg", "namespace": "default", "table": "events", "rolling": {{rolling}}}""", HttpStatusCode.Created);

    public Task CreatePipelineAsync(string name, string stream, string sink) =>
        PostAsync("api/v1/pipelines", $$"""{"name": "{{name}}", "sql": "INSERT INTO {{sink}} SELECT * FROM {{stream}}"}""", HttpStatusCode.Created);

    /// <summary>Deletes the pipeline and creates it again with the same statement, as a user changing it would.</summary>
    public async Task RecreatePipelineAsync(string name, string stream, string sink)
    {
        using var response = await Http.DeleteAsync($"api/v1/pipelines/{name}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await CreatePipelineAsync(name, stream, sink);
    }

    /// <summary>Waits until the pipeline runs, that is past its start-up clean-up and resume.</summary>
    public async Task WaitRunningAsync(string pipeline)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string? state = null;
        while (DateTime.UtcNow < deadline)
        {
            var status = JsonDocument.Parse(await Http.GetStringAsync($"api/v1/pipelines/{pipeline}")).RootElement;
            state = status.GetProperty("state").GetString();
            if (state == "running")
                return;
            await Task.Delay(20);
        }
        Assert.Fail($"pipeline {pipeline} is {state}, not running, after 60 s");
    }

    public Task IngestAsync(string stream, IEnumerable<long> ids) =>
        PostAsync($"streams/{stream}", string.Concat(ids.Select(id => string.Create(CultureInfo.InvariantCulture, $$"""{"id": {{id}}, "user": "{{stream}}"}""") + "\n")), HttpStatusCode.OK);

    /// <summary>Commits what the pipeline's stream acknowledged; returns the commit's snapshot id.</summary>
    public async Task<long> FlushAsync(string pipeline)
    {
        var flushed = await PostAsync($"api/v1/pipelines/{pipeline}/flush", "", HttpStatusCode.OK);
        return flushed.GetProperty("snapshot_id").GetInt64();
    }

    public Task<OutsideWriter> OutsideAsync() => OutsideWriter.OpenAsync(Host.Client.BaseAddress!, Warehouse);

    /// <summary>DuckDB and icebird over the table's snapshots, as <paramref name="writer"/>'s table (refreshed) describes them.</summary>
    public SnapshotReads Readers(OutsideWriter writer)
    {
        if (_s3 is null)
            _files ??= new HttpFileServer(WarehousePath);
        return new SnapshotReads(writer.Table, Path.Combine(Directory, "fetched"), _s3 is null ? null : new Uri(_s3.Endpoint), _files);
    }

    public static IEnumerable<long> Range(long first, int count) => Enumerable.Range(0, count).Select(i => first + i);

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        _files?.Dispose();
        Warehouse.Dispose();
    }
}
