using DataPlane.Catalog.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Tests;

/// <summary>The pipelines area on a real Kestrel port in this process, over a temporary data folder.</summary>
internal sealed class PipelinesHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PipelinesHost(WebApplication app, string directory, HttpClient client)
    {
        _app = app;
        Directory = directory;
        Client = client;
    }

    public string Directory { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<PipelinesHost> StartAsync(string directory, Action<PipelinesOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddIcebergRestCatalog(new RestCatalogOptions
        {
            WarehouseLocation = Path.Combine(directory, "warehouse"),
            DatabasePath = Path.Combine(directory, "catalog", "catalog.db"),
        });
        builder.Services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(directory, "pipelines");
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapDataPlanePipelines();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PipelinesHost(app, directory, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
