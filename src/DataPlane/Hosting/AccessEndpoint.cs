using DataPlane.Catalog.Rest;
using DataPlane.Database.Http;
using DataPlane.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DataPlane.Hosting;

/// <summary>
/// <c>GET /api/v1/access</c>: what the request's bearer token (or no token) may do in each API, by each API's own
/// check, so a client such as the console offers only the actions the server would take. Always 200: it tells a
/// caller what it may do, never more than the APIs themselves let it.
/// </summary>
internal static class AccessEndpoint
{
    public static IEndpointRouteBuilder MapAccess(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/access", (HttpContext http, MetricsAccess metrics) =>
        {
            var services = http.RequestServices;
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(new
            {
                pipelines = services.PipelinesAccess(http.Request),
                catalog = services.CatalogAccess(http),
                databases = services.MayManageDatabases(http.Request) ? "manage" : "none",
                metrics = metrics.Allows(http.Request),
            });
        });
        return app;
    }
}
