using DataPlane.Catalog.Rest;
using DataPlane.Http;
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
    public static async Task<PipelinesHost> StartAsync(string directory, Action<PipelinesOptions>? configure = null, string? warehouse = null, S3Options? s3 = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var logs = new LogLines();
        builder.Logging.AddProvider(logs);
        builder.Services.AddIcebergRestCatalog(new RestCatalogOptions
        {
            WarehouseLocation = warehouse ?? Path.Combine(directory, "warehouse"),
            S3 = s3,
            DatabasePath = Path.Combine(directory, "catalog", "catalog.db"),
        });
        builder.Services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(directory, "pipelines");
            configure?.Invoke(o);
        });
        builder.Services.AddPrometheusMetrics();
        var app = builder.Build();
        app.MapDataPlanePipelines();
        app.MapPrometheusMetrics(_ => Task.FromResult(true));
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
