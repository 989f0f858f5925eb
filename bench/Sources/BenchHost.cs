using System.Net.Http.Headers;
using System.Text;
using DataPlane.Benchmarks.Pipelines;
using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Pipelines;
using DataPlane.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Benchmarks.Sources;

/// <summary>
/// One DataPlane server in the driver's process, as <c>dataplane serve --role ROLE</c> runs it: a process of role
/// <see cref="ProcessRole.All"/> or <see cref="ProcessRole.Catalog"/> serves its own REST catalog (SQLite, warehouse
/// on local disk); a <see cref="ProcessRole.Worker"/> or <see cref="ProcessRole.Ingest"/> one commits through the
/// catalog process's and shares its warehouse, as <c>--catalog URL</c> makes it. The load drivers of this folder send
/// it their management calls and their records over HTTP (8 connections).
/// </summary>
internal sealed class BenchHost(WebApplication app, HttpClient http, Uri address) : IAsyncDisposable
{
    public const int Connections = 8;

    public Uri Address => address;

    /// <param name="dir">The run's folder; the catalog and warehouse live under it, each host's pipelines in a folder of its own.</param>
    /// <param name="catalogProcess">For a worker or ingest role: the catalog process (another <see cref="BenchHost"/>).</param>
    public static async Task<BenchHost> StartAsync(string dir, ProcessRole role = ProcessRole.All, BenchHost? catalogProcess = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // Not the current directory: the host would watch its whole tree for configuration changes.
            ContentRootPath = Directory.CreateDirectory(Path.Combine(dir, "content")).FullName,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var warehouse = Path.Combine(dir, "warehouse");
        if (role is ProcessRole.All or ProcessRole.Catalog)
            builder.Services.AddIcebergRestCatalog(new RestCatalogOptions
            {
                WarehouseLocation = warehouse,
                DatabasePath = Path.Combine(dir, "catalog", "catalog.db"),
            });
        else
        {
            var catalog = catalogProcess ?? throw new ArgumentException($"A {role} host needs the catalog process.", nameof(catalogProcess));
            builder.Services.AddSingleton<ICatalog>(_ => RemoteCatalog.Connect(new Uri(catalog.Address, "iceberg/")));
            builder.Services.AddSingleton(new Warehouse(ObjectStore.Open(warehouse)));
        }
        builder.Services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(dir, $"pipelines-{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}");
            o.MaxLogBytes = 8L * 1024 * 1024 * 1024;
            o.Role = role;
            o.CatalogProcess = catalogProcess?.Address;
            // A definition or flush made on the catalog process reaches the workers within this.
            o.DefinitionsPollSeconds = 0.25;
        });
        var app = builder.Build();
        if (role is ProcessRole.All or ProcessRole.Catalog)
            app.MapIcebergRestCatalog();
        app.MapDataPlanePipelines();
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var address = new Uri(url.EndsWith('/') ? url : url + "/");
        return new BenchHost(app, new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Connections }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(30) }, address);
    }

    /// <summary>A management call; any status but 2xx throws with the answer's body.</summary>
    public async Task<string> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {text}");
        return text;
    }

    /// <summary>The stream of <see cref="IngestLoad.StreamJson"/>'s schema named <paramref name="name"/>, with a <c>"source"</c> object when given.</summary>
    public Task CreateStreamAsync(string name, string? source)
    {
        var json = IngestLoad.StreamJson.Replace("\"name\": \"events\"", $"\"name\": \"{name}\"", StringComparison.Ordinal);
        return SendAsync(HttpMethod.Post, "api/v1/streams", source is null ? json : json.TrimEnd()[..^1] + ", \"source\": " + source + "}");
    }

    /// <summary>Posts the NDJSON bodies to the stream over <see cref="Connections"/> connections; any status but 200 throws.</summary>
    public Task PostRecordsAsync(string stream, IEnumerable<byte[]> bodies) =>
        Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = Connections }, async (body, ct) =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
            using var response = await http.PostAsync($"streams/{stream}", content, ct);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"ingest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        });

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
