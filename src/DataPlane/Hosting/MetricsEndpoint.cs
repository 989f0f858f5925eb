using DataPlane.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Hosting;

/// <summary>Serves <c>GET /metrics</c> (every area's meters, <see cref="PrometheusMetrics"/>) to whom <see cref="MetricsAccess"/> lets in.</summary>
internal static class MetricsEndpoint
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var access = app.ServiceProvider.GetRequiredService<MetricsAccess>();
        return app.MapPrometheusMetrics(async http =>
        {
            if (access.Allows(http.Request)) return true;
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await http.Response.WriteAsJsonAsync(new { error = MetricsAccess.Refusal }, http.RequestAborted);
            return false;
        });
    }
}
