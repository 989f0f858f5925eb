using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataPlane.Database.Hosting;

/// <summary>
/// Opens the databases when the host starts, so in-process replicas catch up before the first
/// request; on a replica host, starts replicating the primary's databases and picks up new ones.
/// </summary>
internal sealed class DatabaseStartup(DatabaseCatalog catalog, ILogger<DatabaseStartup> logger) : BackgroundService
{
    private static readonly TimeSpan DiscoveryInterval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await catalog.OpenAsync(stoppingToken);
        if (!catalog.IsReplicaHost) return;
        var only = catalog.Options.ReplicateOnly;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var names = only is { Count: > 0 } ? only : await catalog.ListPrimaryDatabasesAsync(stoppingToken);
                await catalog.ReplicateAsync(names, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not reach the primary at {Primary}: {Message}", catalog.Options.PrimaryUrl, e.Message);
            }
            try
            {
                await Task.Delay(DiscoveryInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
