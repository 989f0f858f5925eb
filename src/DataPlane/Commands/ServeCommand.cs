using System.CommandLine;
using DataPlane.Catalog.Rest;
using DataPlane.Database;
using DataPlane.Hosting;
using DataPlane.Http;
using DataPlane.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DataPlane.Commands;

/// <summary><c>dataplane serve</c>: every API on one port, on the embedded defaults unless configured otherwise.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int?>("--port") { Description = $"TCP port (default {DataPlaneOptions.DefaultPort}; 0 picks a free one)" };
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1)" };
        var data = new Option<string?>("--data") { Description = "Data directory (default ./data)" };
        var warehouse = new Option<string?>("--warehouse") { Description = "Table storage: a folder or s3://bucket/prefix (default <data>/warehouse)" };
        var config = new Option<string?>("--config") { Description = "Configuration file (default ./dataplane.json when present)" };
        var logFormat = new Option<string?>("--log-format") { Description = "json or simple" };
        var role = new Option<string?>("--role") { Description = "all (default: everything in this process), ingest, worker or catalog" };
        var catalogUrl = new Option<string?>("--catalog") { Description = "The catalog process (--role catalog) an ingest or worker process uses, e.g. http://127.0.0.1:8181" };

        var command = new Command("serve", "Run the DataPlane server (Iceberg REST catalog, streams, databases) on one port.")
        {
            port, host, data, warehouse, config, logFormat, role, catalogUrl,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var flags = new Dictionary<string, string?>();
            void Flag(string key, object? value) { if (value is not null) flags[key] = value.ToString(); }
            Flag(nameof(DataPlaneOptions.Port), result.GetValue(port));
            Flag(nameof(DataPlaneOptions.Host), result.GetValue(host));
            Flag(nameof(DataPlaneOptions.Data), result.GetValue(data));
            Flag(nameof(DataPlaneOptions.Warehouse), result.GetValue(warehouse));
            Flag(nameof(DataPlaneOptions.LogFormat), result.GetValue(logFormat));
            Flag(nameof(DataPlaneOptions.Role), result.GetValue(role));
            Flag("Catalog:Url", result.GetValue(catalogUrl));

            DataPlaneOptions options;
            WebApplication built;
            try
            {
                (options, var configuration) = DataPlaneConfiguration.Load(result.GetValue(config), flags);
                built = ServerHost.Build(options, configuration);
            }
            catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidOperationException or FormatException)
            {
                Console.Error.WriteLine($"dataplane serve: {e.Message}");
                return 2;
            }

            await using var app = built;
            await app.StartAsync(cancellationToken);
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DataPlane");
            logger.LogInformation("DataPlane listening on {Addresses} as --role {Role}, data in {DataDirectory}, warehouse {Warehouse}",
                string.Join(", ", addresses ?? []), options.Role.ToLowerInvariant(), options.DataDirectory, options.WarehouseLocation);
            // Loopback is the safe default; anything else reaches other machines, so say what is open to them.
            if (!AnonymousAccess.IsLoopback(options.Host))
            {
                if (app.Services.GetService<RestCatalogOptions>() is { } catalog && AnonymousAccess.Allowed(catalog.Tokens.Count > 0 || catalog.Clients.Count > 0, catalog.AllowAnonymous))
                    logger.LogWarning("Host {Host} is not a loopback address and Catalog:AllowAnonymous is on: any client that reaches it " +
                        "may change tables. Set Catalog:Tokens (DATAPLANE_CATALOG__TOKENS__0__TOKEN) or Catalog:Clients instead.", options.Host);
                var pipelines = app.Services.GetRequiredService<PipelinesOptions>();
                if (AnonymousAccess.Allowed(pipelines.Tokens.Count > 0, pipelines.AllowAnonymous))
                    logger.LogWarning("Host {Host} is not a loopback address and Pipelines:AllowAnonymous is on: any client that reaches it " +
                        "may ingest and change streams, sinks and pipelines. Set Pipelines:Tokens (DATAPLANE_PIPELINES__TOKENS__0__TOKEN) instead.", options.Host);
                if (app.Services.GetService<DatabaseOptions>() is { } databases && AnonymousAccess.Allowed(!string.IsNullOrEmpty(databases.AdminToken), databases.AllowAnonymous))
                    logger.LogWarning("Host {Host} is not a loopback address and Databases:AllowAnonymous is on: any client that reaches it " +
                        "may create and delete databases and use those without tokens. Set Databases:AdminToken (DATAPLANE_DATABASES__ADMINTOKEN) instead.", options.Host);
            }
            // Ctrl-C / SIGTERM cancel the token; StopAsync drains in-flight requests before exit.
            await app.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
