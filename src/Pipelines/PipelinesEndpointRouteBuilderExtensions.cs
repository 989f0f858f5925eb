using DataPlane.Pipelines.Api;
using DataPlane.Pipelines.CatalogProcess;
using DataPlane.Pipelines.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Pipelines;

public static class PipelinesEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps ingestion (<c>POST /streams/{name}</c>), the management API under <c>/api/v1</c> (with read-only views of the
    /// catalog's tables for the console). The metrics are on the host's one <c>GET /metrics</c>
    /// (<see cref="DataPlane.Http.PrometheusMetrics"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapDataPlanePipelines(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var ingest = services.GetRequiredService<IngestEndpoint>();
        var streams = services.GetRequiredService<StreamsApi>();
        services.GetRequiredService<PipelineMetrics>(); // its instruments exist from the start
        var sinks = services.GetRequiredService<SinksApi>();
        var pipelines = services.GetRequiredService<PipelinesApi>();
        var access = services.GetRequiredService<ApiAccess>();
        var tables = services.GetRequiredService<TablesApi>();

        // A worker or catalog process takes no records (ingest processes do): it answers 404 naming the role that does.
        app.MapPost("/streams/{name}", (HttpContext c, string name) => ingest.HandleAsync(c, name))
            .AddEndpointFilterFactory((_, next) => access.Require(management: false, next));
        var api = app.MapGroup("/api/v1").AddEndpointFilterFactory((_, next) => access.Require(management: true, next));
        // An ingest or worker process's definitions are the catalog process's: writes are made there, reads answered here.
        var forwarded = services.GetService<ForwardedWrites>();
        api.MapPost("/streams", forwarded is null ? streams.CreateAsync : forwarded.HandleAsync);
        api.MapGet("/streams", streams.ListAsync);
        api.MapGet("/streams/{name}", (HttpContext c, string name) => streams.GetAsync(c, name));
        api.MapDelete("/streams/{name}", (HttpContext c, string name) => forwarded is null ? streams.DeleteAsync(c, name) : forwarded.HandleAsync(c));
        api.MapGet("/streams/{name}/activity", (HttpContext c, string name) => streams.ActivityAsync(c, name));
        api.MapGet("/streams/{name}/records", (HttpContext c, string name) => streams.RecordsAsync(c, name));
        api.MapPost("/sinks", forwarded is null ? sinks.CreateAsync : forwarded.HandleAsync);
        api.MapGet("/sinks", sinks.ListAsync);
        api.MapGet("/sinks/{name}", (HttpContext c, string name) => sinks.GetAsync(c, name));
        api.MapDelete("/sinks/{name}", (HttpContext c, string name) => forwarded is null ? sinks.DeleteAsync(c, name) : forwarded.HandleAsync(c));
        api.MapPost("/pipelines", forwarded is null ? pipelines.CreateAsync : forwarded.HandleAsync);
        api.MapPost("/pipelines/validate", pipelines.ValidateAsync);
        api.MapGet("/pipelines", pipelines.ListAsync);
        api.MapGet("/pipelines/{name}", (HttpContext c, string name) => pipelines.GetAsync(c, name));
        api.MapDelete("/pipelines/{name}", (HttpContext c, string name) => forwarded is null ? pipelines.DeleteAsync(c, name) : forwarded.HandleAsync(c));
        // An ingest process runs no pipeline: the catalog process flushes every worker's (a worker flushes its own).
        bool flushedByCatalog = services.GetRequiredService<PipelinesOptions>().Role == ProcessRole.Ingest;
        api.MapPost("/pipelines/{name}/flush", (HttpContext c, string name) => flushedByCatalog ? forwarded!.FlushAsync(c) : pipelines.FlushAsync(c, name));
        api.MapGet("/tables/{ns}/{table}/rows", (HttpContext c, string ns, string table) => tables.RowsAsync(c, ns, table));
        api.MapGet("/tables/{ns}/{table}/files", (HttpContext c, string ns, string table) => tables.FilesAsync(c, ns, table));
        return app;
    }

    /// <summary>What the request's token may do in this API, for a host's <c>GET /api/v1/access</c>: <c>manage</c>,
    /// <c>read</c> (a ReadOnly token), <c>ingest</c> (an IngestOnly token) or <c>none</c>.</summary>
    public static string PipelinesAccess(this IServiceProvider services, HttpRequest request) =>
        services.GetRequiredService<ApiAccess>().Of(request).ToString().ToLowerInvariant();

    /// <summary>
    /// The management API's group (<c>/api/v1</c>, behind the same tokens as streams, sinks and pipelines) for another area
    /// of the host to add its endpoints to (table maintenance); their answers use <see cref="JsonResponse"/>.
    /// </summary>
    public static RouteGroupBuilder MapManagementApi(this IEndpointRouteBuilder app)
    {
        var access = app.ServiceProvider.GetRequiredService<ApiAccess>();
        return app.MapGroup("/api/v1").AddEndpointFilterFactory((_, next) => access.Require(management: true, next));
    }
}
