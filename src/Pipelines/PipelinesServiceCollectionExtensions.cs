using DataPlane.Pipelines.Api;
using DataPlane.Pipelines.CatalogProcess;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Pipelines;

public static class PipelinesServiceCollectionExtensions
{
    /// <summary>
    /// The server's registration: state under <c>&lt;data&gt;/pipelines</c>, limits from the
    /// <c>Pipelines</c> section (environment: <c>DATAPLANE_PIPELINES__MAXREQUESTBYTES</c> and the like).
    /// </summary>
    /// <param name="allowAnonymousByDefault">What <see cref="PipelinesOptions.AllowAnonymous"/> is when the configuration
    /// does not say (the server passes whether it listens on loopback only).</param>
    /// <param name="host">What the host decides over the configuration (its <see cref="PipelinesOptions.Role"/>).</param>
    public static IServiceCollection AddDataPlanePipelines(this IServiceCollection services, IConfiguration configuration, string dataDirectory, bool allowAnonymousByDefault = true,
        Action<PipelinesOptions>? host = null) =>
        services.AddDataPlanePipelines(o =>
        {
            o.Directory = Path.Combine(dataDirectory, "pipelines");
            o.AllowAnonymous = allowAnonymousByDefault;
            configuration.GetSection("Pipelines").Bind(o);
            configuration.GetSection("DATAPLANE_PIPELINES").Bind(o);
            host?.Invoke(o);
        });

    /// <summary>Registers streams, their ingest logs, sinks and pipelines; <see cref="PipelinesEndpointRouteBuilderExtensions.MapDataPlanePipelines"/> serves them.
    /// Iceberg sinks commit to the registered <see cref="Iceberg.Catalogs.ICatalog"/> (<c>AddIcebergRestCatalog</c> registers this process's
    /// own; a process committing to another's registers a <c>RemoteCatalog</c>), and raw file sinks write to the registered
    /// <see cref="Iceberg.Catalogs.Warehouse"/>.</summary>
    public static IServiceCollection AddDataPlanePipelines(this IServiceCollection services, Action<PipelinesOptions> configure)
    {
        var options = new PipelinesOptions();
        configure(options);
        if (options.MaxRequestBytes <= 0 || options.MaxRecordBytes <= 0 || options.MaxLogBytes <= 0
            || options.MaxStreams <= 0 || options.MaxSinks <= 0 || options.MaxPipelines <= 0 || options.StreamIdleSeconds <= 0
            || !(options.DefinitionsPollSeconds is > 0 and <= 3600)
            || options.MaxLookupTableBytes <= 0 || !(options.LookupRefreshSeconds is >= 0 and <= 86400) || !(options.LookupWaitSeconds is >= 0 and <= 3600))
            throw new ArgumentException($"Pipelines limits must be positive (MaxRequestBytes {options.MaxRequestBytes}, MaxRecordBytes {options.MaxRecordBytes}, " +
                $"MaxLogBytes {options.MaxLogBytes}, MaxStreams {options.MaxStreams}, MaxSinks {options.MaxSinks}, MaxPipelines {options.MaxPipelines}, StreamIdleSeconds {options.StreamIdleSeconds}; DefinitionsPollSeconds {options.DefinitionsPollSeconds} at most 3600; " +
                $"MaxLookupTableBytes {options.MaxLookupTableBytes}, LookupRefreshSeconds {options.LookupRefreshSeconds} at most 86400, LookupWaitSeconds {options.LookupWaitSeconds} at most 3600).");
        services.AddSingleton(options);
        services.AddSingleton(new ApiAccess(options));
        services.AddMetrics();
        services.AddSingleton<PipelineMetrics>();
        services.AddSingleton<StreamRegistry>();
        services.AddSingleton<IngestEndpoint>();
        services.AddSingleton<StreamsApi>();
        services.AddSingleton<SinkRegistry>();
        services.AddSingleton<Lookups.LookupSources>();
        services.AddSingleton<PipelineRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineRegistry>());
        services.AddSingleton<StreamSources>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamSources>());
        services.AddSingleton<SinksApi>();
        services.AddSingleton<FlushRequests>();
        services.AddSingleton<PipelinesApi>();
        services.AddSingleton<TablesApi>();
        if (options.MirrorsDefinitions)
        {
            services.AddSingleton<CatalogProcessClient>();
            services.AddSingleton<DefinitionsMirror>();
            services.AddHostedService(sp => sp.GetRequiredService<DefinitionsMirror>());
            services.AddSingleton<ForwardedWrites>();
        }
        return services;
    }
}
