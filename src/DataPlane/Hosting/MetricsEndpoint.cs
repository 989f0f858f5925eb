using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Hosting;

/// <summary>Serves <c>GET /metrics</c>: one Prometheus text document made of every registered area's section, to whom <see cref="MetricsAccess"/> lets in.</summary>
internal static class MetricsEndpoint
{
    public static IServiceCollection AddMetricsSection(this IServiceCollection services, string area, Func<IServiceProvider, TextWriter, CancellationToken, Task> writeAsync) =>
        services.AddSingleton(new MetricsSection(area, writeAsync));

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext http, IEnumerable<MetricsSection> sections, MetricsAccess access) =>
        {
            if (!access.Allows(http.Request))
            {
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                http.Response.Headers.WWWAuthenticate = "Bearer";
                await http.Response.WriteAsJsonAsync(new { error = MetricsAccess.Refusal }, http.RequestAborted);
                return;
            }
            // Rendered whole before the first byte goes out: a failing area gives a 500, not a truncated document.
            var text = new StringWriter(new StringBuilder(8192), CultureInfo.InvariantCulture) { NewLine = "\n" };
            foreach (var section in sections) await section.WriteAsync(http.RequestServices, text, http.RequestAborted);
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await http.Response.WriteAsync(text.ToString(), Encoding.UTF8, http.RequestAborted);
        });
        return app;
    }
}
