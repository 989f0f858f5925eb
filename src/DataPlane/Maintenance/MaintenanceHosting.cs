using System.Diagnostics.Metrics;
using DataPlane.Hosting;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Pipelines;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Maintenance;

/// <summary>Table maintenance's part of <c>dataplane serve</c>: the scheduler, its API under <c>/api/v1</c> and its metrics.</summary>
internal static class MaintenanceHosting
{
    public static IServiceCollection AddTableMaintenance(this IServiceCollection services, DataPlaneOptions options)
    {
        services.AddSingleton(options.Maintenance);
        services.AddSingleton(sp => new MaintenanceScheduler(sp.GetRequiredService<ICatalog>(), options.Maintenance,
            sp.GetRequiredService<PipelinesOptions>().Directory, options.DataDirectory, sp.GetRequiredService<ILogger<MaintenanceScheduler>>(),
            meters: sp.GetRequiredService<IMeterFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceScheduler>());
        services.AddSingleton(sp => new MaintenanceApi(sp.GetRequiredService<ICatalog>(), sp.GetRequiredService<MaintenanceScheduler>(), TimeProvider.System));
        return services;
    }

    public static IEndpointRouteBuilder MapTableMaintenance(this IEndpointRouteBuilder app)
    {
        app.ServiceProvider.GetRequiredService<MaintenanceApi>().Map(app);
        return app;
    }
}
