using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace DataPlane.TestServices.Readers;

/// <summary>
/// Serves a folder over loopback HTTP with Range requests, the way object storage serves a warehouse to readers that
/// fetch (icebird cannot open file:// URLs). Kestrel rather than HttpListener: the managed HttpListener can throw on an
/// I/O callback when it is closed while a keep-alive client still holds a connection, which kills the test host.
/// </summary>
public sealed class HttpFileServer : IDisposable
{
    private readonly WebApplication _app;

    public HttpFileServer(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(Path.GetFullPath(root)),
            ServeUnknownFileTypes = true,
            DefaultContentType = "application/octet-stream",
        });
        _app.StartAsync().GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUri = new Uri(address.TrimEnd('/') + "/");
    }

    public Uri BaseUri { get; }

    public void Dispose()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        _app.StopAsync(timeout.Token).GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}
