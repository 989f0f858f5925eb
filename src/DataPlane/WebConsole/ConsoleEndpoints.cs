using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DataPlane.WebConsole;

/// <summary>
/// Serves the console: <c>GET /</c> is its page, <c>GET /console/PATH</c> its scripts, styles and the vendored chart
/// library. The page holds no data and needs no token; everything it shows comes from the public APIs, called from the
/// browser with the token the person gives it, so it can do exactly what that token can.
/// </summary>
internal static class ConsoleEndpoints
{
    /// <summary>Nothing but this server: no CDN, no inline script or style, no framing by other sites.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        var assets = ConsoleAssets.Load();
        app.MapMethods("/", ["GET", "HEAD"], (HttpContext http) => ServeAsync(http, assets.Find("index.html")));
        app.MapMethods("/console/{**path}", ["GET", "HEAD"], (HttpContext http, string path) => ServeAsync(http, assets.Find(path)));
        return app;
    }

    private static Task ServeAsync(HttpContext http, ConsoleAsset? asset)
    {
        var response = http.Response;
        if (asset is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync($"No console file {http.Request.Path}.");
        }
        response.Headers.ETag = asset.ETag;
        // Revalidated on every load (a 304 when unchanged): a new binary's console is picked up at once.
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (asset.ContentType.StartsWith("text/html", StringComparison.Ordinal))
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Body.Length;
        return response.Body.WriteAsync(asset.Body, http.RequestAborted).AsTask();
    }
}
