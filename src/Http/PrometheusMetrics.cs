using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace DataPlane.Http;

/// <summary>
/// <c>GET /metrics</c>: every area's <see cref="Meter"/> (named <c>DataPlane.*</c>, created from the host's
/// <see cref="IMeterFactory"/>) in the Prometheus text format, through OpenTelemetry's Prometheus exporter. The
/// exporter keeps instrument names as given (they already end in <c>_total</c> and their unit), adds an
/// <c>otel_scope_name</c> label naming the area, and lists labels in name order.
/// </summary>
public static class PrometheusMetrics
{
    /// <summary>Latency buckets in seconds, from a fast fsync to a slow commit; for <see cref="InstrumentAdvice{T}"/>.</summary>
    public static readonly IReadOnlyList<double> LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter("DataPlane.*");
            // The SDK listens by meter name, process-wide: another host in the same process (tests run several) has
            // meters of the same names, so only this host's factory's meters are exported.
            ((IDeferredMeterProviderBuilder)metrics).Configure((services, builder) =>
            {
                var own = services.GetRequiredService<IMeterFactory>();
                builder.AddView(instrument => ReferenceEquals(instrument.Meter.Scope, own) ? null : MetricStreamConfiguration.Drop);
            });
            // Every scrape reads the instruments anew (the default caches a scrape for 300 ms).
            metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
        });
        return services;
    }

    /// <summary>Maps <c>GET /metrics</c>; <paramref name="admit"/> runs first and, to refuse, answers the request itself and returns false.</summary>
    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder app, Func<HttpContext, Task<bool>> admit)
    {
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (http, next) =>
        {
            if (await admit(http)) await next(http);
        }), optionsName: null);
        return app;
    }
}
