using DataPlane.Catalog.Rest;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Catalog.Tests.Rest;

/// <summary>The catalog on a real Kestrel at a free loopback port, over a fresh temp folder (warehouse + SQLite).</summary>
internal sealed class RestCatalogServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RestCatalogServer(WebApplication app, string folder, RestCatalogOptions options)
    {
        _app = app;
        Folder = folder;
        Options = options;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUri = new Uri(address.TrimEnd('/') + "/iceberg/");
    }

    public string Folder { get; }
    public RestCatalogOptions Options { get; }
    /// <summary>The service behind the port, for tests that drive its parts directly.</summary>
    internal RestCatalog Catalog => _app.Services.GetRequiredService<RestCatalog>();
    public IServiceProvider Services => _app.Services;

    /// <summary><c>http://127.0.0.1:port/iceberg/</c>: the catalog URI clients are given.</summary>
    public Uri BaseUri { get; }

    public static async Task<RestCatalogServer> StartAsync(Func<string, RestCatalogOptions>? configure = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "dp-rest-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var options = configure?.Invoke(folder) ?? Defaults(folder);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        try
        {
            builder.Services.AddIcebergRestCatalog(options);
        }
        catch (ArgumentException)
        {
            Directory.Delete(folder, recursive: true); // options refused before anything started
            throw;
        }
        var app = builder.Build();
        app.MapIcebergRestCatalog();
        await app.StartAsync();
        return new RestCatalogServer(app, folder, options);
    }

    public static RestCatalogOptions Defaults(string folder) => new()
    {
        WarehouseLocation = Path.Combine(folder, "warehouse"),
        DatabasePath = Path.Combine(folder, "catalog", "catalog.db"),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
