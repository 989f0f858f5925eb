using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Http;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Tests;

/// <summary>The pipelines area and the Iceberg REST catalog (<c>/iceberg/v1</c>) on a real Kestrel port in this process,
/// over a temporary data folder, with the warehouse there or on an S3 server.</summary>
internal sealed class PipelinesHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PipelinesHost(WebApplication app, string directory, HttpClient client, LogLines logs)
    {
        _app = app;
        Logs = logs;
        Directory = directory;
        Client = client;
    }

    public string Directory { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    /// <summary>What the host logged, Information and above.</summary>
    public LogLines Logs { get; }

    /// <param name="warehouse">Where tables and file sinks go: <c>&lt;directory&gt;/warehouse</c> when null, or an <c>s3://</c> location with <paramref name="s3"/>.</param>
    /// <param name="port">0 for any free port; a restarted server passes its previous one, so clients keep their address.</param>
    /// <param name="remoteCatalog">An Iceberg REST catalog another process serves (its root, before <c>/v1</c>): the sinks
    /// commit through it, and <paramref name="warehouse"/> is that catalog's warehouse, shared; this host serves no catalog.</param>
    public static async Task<PipelinesHost> StartAsync(string directory, Action<PipelinesOptions>? configure = null, string? warehouse = null, S3Options? s3 = null, int port = 0,
        Uri? remoteCatalog = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var logs = new LogLines();
        builder.Logging.AddProvider(logs);
        if (remoteCatalog is null)
        {
            builder.Services.AddIcebergRestCatalog(new RestCatalogOptions
            {
                WarehouseLocation = warehouse ?? Path.Combine(directory, "warehouse"),
                S3 = s3,
                DatabasePath = Path.Combine(directory, "catalog", "catalog.db"),
            });
        }
        else
        {
            var catalog = await RemoteCatalog.OpenAsync(remoteCatalog);
            builder.Services.AddSingleton<ICatalog>(_ => catalog); // made by a factory, so the host disposes it
            builder.Services.AddSingleton(new Warehouse(ObjectStore.Open(warehouse ?? throw new ArgumentException("A remote catalog's warehouse is shared: name it.", nameof(warehouse)), s3)));
        }
        builder.Services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(directory, "pipelines");
            configure?.Invoke(o);
        });
        builder.Services.AddPrometheusMetrics();
        var app = builder.Build();
        app.MapDataPlanePipelines();
        app.MapPrometheusMetrics(_ => Task.FromResult(true));
        if (remoteCatalog is null)
            app.MapIcebergRestCatalog();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PipelinesHost(app, directory, new HttpClient { BaseAddress = new Uri(address) }, logs);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
