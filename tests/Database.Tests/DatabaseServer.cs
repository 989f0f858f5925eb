using DataPlane.Database.Http;
using DataPlane.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Tests;

/// <summary>A real Kestrel host on a loopback port serving the database API (a primary or a replica host).</summary>
internal sealed class DatabaseServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DatabaseServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Address { get; }
    public HttpClient Http { get; }
    public Hosting.DatabaseCatalog Catalog => _app.Services.GetRequiredService<Hosting.DatabaseCatalog>();
    public IServiceProvider Services => _app.Services;

    public static async Task<DatabaseServer> StartAsync(DatabaseOptions options, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddDataPlaneDatabases(options);
        builder.Services.AddPrometheusMetrics();
        var app = builder.Build();
        app.MapDataPlaneDatabases();
        app.MapPrometheusMetrics(_ => Task.FromResult(true));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DatabaseServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public DatabaseClient Client(string? token = null) => new(Http, token);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await Catalog.DisposeAsync();
        await _app.DisposeAsync();
    }
}
