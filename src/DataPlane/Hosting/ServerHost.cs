using DataPlane.Catalog.Rest;
using DataPlane.Catalog.RestClient;
using DataPlane.Database.Http;
using DataPlane.Http;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Maintenance;
using DataPlane.Pipelines;
using DataPlane.Storage;
using DataPlane.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Hosting;

/// <summary>Builds the one web host that serves every DataPlane API; each area registers its services and routes here.</summary>
internal static class ServerHost
{
    /// <param name="configuration">The layered configuration (dataplane.json &lt; DATAPLANE_* &lt; flags) that areas read their sections from.</param>
    public static WebApplication Build(DataPlaneOptions options, IConfiguration? configuration = null)
    {
        Directory.CreateDirectory(options.DataDirectory);
        // No config reload: the host would watch the content root (the data folder) and hear of every segment and
        // Parquet file written there; settings are read once at start.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = options.DataDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseUrls($"http://{FormatHost(options.Host)}:{options.Port}");
        ConfigureLogging(builder.Logging, options);
        builder.Services.AddSingleton(options);
        if (configuration is not null)
            builder.Configuration.AddConfiguration(configuration);

        // Areas: services. Each role has only its own (README "Scaled out"): a catalog process the catalog, the definitions,
        // databases and maintenance; an ingest process ingestion; a worker the pipelines.
        var role = options.ProcessRole;
        bool servesCatalog = role is ProcessRole.All or ProcessRole.Catalog;
        // Relative paths (api/v1/..., iceberg/) go under the address's own path, so it ends with '/'.
        Uri? catalogProcess = options.Catalog.Url is { } url ? new Uri(url.EndsWith('/') ? url : url + "/") : null;
        if (servesCatalog)
            builder.Services.AddIcebergRestCatalog(RestCatalogSettings.From(options));
        else
        {
            // Sinks commit through the catalog process's REST catalog and write the tables' files into its warehouse,
            // which this process shares (the same --warehouse) with its own S3 settings.
            var s3 = RestCatalogSettings.S3(options);
            var remote = new Uri(catalogProcess!, "iceberg/");
            builder.Services.AddSingleton<ICatalog>(_ => RemoteCatalog.Connect(remote, options.Catalog.Token, s3)); // a factory's: the host disposes it
            builder.Services.AddSingleton(new Warehouse(ObjectStore.Open(options.WarehouseLocation, s3)));
        }
        builder.Services.AddDataPlanePipelines(builder.Configuration, options.DataDirectory, allowAnonymousByDefault: AnonymousAccess.ByDefault(options.Host),
            host: o =>
            {
                o.Role = role;
                o.CatalogProcess = catalogProcess;
                o.CatalogToken = options.Catalog.Token;
            });
        if (servesCatalog)
        {
            builder.Services.AddDataPlaneDatabases(new Database.DatabaseOptions
            {
                DataDirectory = Path.Combine(options.DataDirectory, "databases"),
                AllowAnonymous = options.Databases.AllowAnonymous ?? AnonymousAccess.ByDefault(options.Host),
                AdminToken = options.Databases.AdminToken,
                StatementTimeout = TimeSpan.FromSeconds(options.Databases.StatementTimeoutSeconds),
                MaxDatabases = options.Databases.MaxDatabases,
            });
            builder.Services.AddTableMaintenance(options);
            // Lookup joins of db.<name>.<table> read this process's databases (the pipelines know only the interface).
            builder.Services.AddSingleton<Pipelines.Lookups.IDatabaseReader, DatabaseLookupReader>();
        }
        builder.Services.AddSingleton(sp => new MetricsAccess(servesCatalog ? sp.GetRequiredService<RestCatalogOptions>() : null,
            sp.GetRequiredService<PipelinesOptions>(), sp.GetService<Database.DatabaseOptions>()));
        builder.Services.AddPrometheusMetrics();

        var app = builder.Build();
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok", role = role.ToString().ToLowerInvariant() }));

        // Areas: routes.
        if (servesCatalog)
            app.MapIcebergRestCatalog();
        app.MapDataPlanePipelines();
        if (servesCatalog)
        {
            app.MapDataPlaneDatabases();
            app.MapTableMaintenance();
        }
        app.MapMetrics();
        if (servesCatalog)
        {
            app.MapAccess();
            app.MapSlurpJobs();
            app.MapConsole();
        }

        return app;
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;

    private static void ConfigureLogging(ILoggingBuilder logging, DataPlaneOptions options)
    {
        logging.ClearProviders();
        var json = options.LogFormat == "json" || (options.LogFormat is null && Console.IsOutputRedirected);
        if (json)
            logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        else
            logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
    }
}
