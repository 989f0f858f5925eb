using DataPlane.Catalog.Catalogs;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Iceberg.Catalogs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Catalog.Rest;

/// <summary>Plugs the Iceberg REST catalog into a web host: <c>services.AddIcebergRestCatalog(options)</c>, then <c>app.MapIcebergRestCatalog()</c>.</summary>
public static class RestCatalogHosting
{
    public static IServiceCollection AddIcebergRestCatalog(this IServiceCollection services, RestCatalogOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        // One catalog in the process: in-process users (the pipelines' sinks, maintenance) and the REST service share
        // its store, metadata cache and commit engine, so their commits to a table are grouped together.
        services.AddSingleton(_ => new IcebergCatalog(options));
        services.AddSingleton<ICatalog>(sp => sp.GetRequiredService<IcebergCatalog>());
        services.AddSingleton(sp => new Warehouse(sp.GetRequiredService<IcebergCatalog>().Warehouse));
        services.AddSingleton<RestCatalog>();
        return services;
    }

    /// <summary>What the request's token may do in the catalog, by the catalog's own check, for a host's
    /// <c>GET /api/v1/access</c>: <c>write</c>, <c>read</c> (a read-only token) or <c>none</c>.</summary>
    public static string CatalogAccess(this IServiceProvider services, HttpContext context)
    {
        var authenticator = services.GetRequiredService<RestCatalog>().Authenticator;
        try
        {
            authenticator.Check(context, write: true);
            return "write";
        }
        catch (RestException e) when (e.Code == StatusCodes.Status403Forbidden)
        {
            return "read";
        }
        catch (RestException)
        {
            return "none";
        }
    }

    /// <summary>Maps every endpoint under <c>/iceberg/v1</c> (and <c>/iceberg/v1/{prefix}</c>).</summary>
    public static IEndpointRouteBuilder MapIcebergRestCatalog(this IEndpointRouteBuilder app)
    {
        RestCatalogRoutes.Map(app);
        return app;
    }
}
