using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DataPlane.Catalog.Tests.EndToEnd;

/// <summary>
/// Serves a folder over loopback HTTP with Range requests, the way object storage serves a warehouse to readers that
/// fetch (icebird cannot open file:// URLs).
/// </summary>
internal sealed class HttpFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly Task _loop;

    public HttpFileServer(string root)
    {
        _root = Path.GetFullPath(root);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUri.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri BaseUri { get; }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            catch (HttpListenerException) { return; }
            _ = Task.Run(() => ServeAsync(context));
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var relative = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath.TrimStart('/'));
            var path = Path.GetFullPath(Path.Combine(_root, relative));
            if (!path.StartsWith(_root, StringComparison.Ordinal) || !File.Exists(path))
            {
                response.StatusCode = 404;
                return;
            }
            long length = new FileInfo(path).Length;
            long start = 0, end = length - 1;
            response.Headers["Accept-Ranges"] = "bytes";
            response.Headers["Access-Control-Allow-Origin"] = "*";
            if (context.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
            {
                var parts = range["bytes=".Length..].Split('-');
                if (parts[0].Length == 0)
                    start = Math.Max(0, length - long.Parse(parts[1], CultureInfo.InvariantCulture));
                else
                {
                    start = long.Parse(parts[0], CultureInfo.InvariantCulture);
                    if (parts[1].Length > 0) end = Math.Min(end, long.Parse(parts[1], CultureInfo.InvariantCulture));
                }
                response.StatusCode = 206;
                response.Headers["Content-Range"] = $"bytes {start}-{end}/{length}";
            }
            response.ContentLength64 = end - start + 1;
            if (context.Request.HttpMethod == "HEAD") return;
            await using var file = File.OpenRead(path);
            file.Position = start;
            var buffer = new byte[81920];
            long remaining = end - start + 1;
            while (remaining > 0)
            {
                int n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)));
                if (n == 0) break;
                await response.OutputStream.WriteAsync(buffer.AsMemory(0, n));
                remaining -= n;
            }
        }
        catch (HttpListenerException)
        {
            // The reader went away mid-response.
        }
        finally
        {
            try { response.Close(); } catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
