using System.Globalization;
using DataPlane.Database.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace DataPlane.Database.Http;

/// <summary>Positions, log syncs and replica lag in the Prometheus text format, for the host's /metrics.</summary>
public static class DatabaseMetrics
{
    /// <summary>The databases' section of a host's <c>/metrics</c>; opens the catalog first if no request has yet.</summary>
    public static async Task WritePrometheusAsync(IServiceProvider services, TextWriter writer, CancellationToken cancellationToken)
    {
        var catalog = services.GetRequiredService<DatabaseCatalog>();
        await catalog.OpenAsync(cancellationToken);
        WritePrometheus(catalog, writer);
    }

    public static void WritePrometheus(DatabaseCatalog catalog, TextWriter writer)
    {
        var databases = catalog.Snapshot();
        var primaries = databases.OfType<ReplicatedDatabase>().Select(d => (Labels: Label("database", d.Name), Database: d)).ToList();
        Family(writer, "dataplane_db_primary_position", "gauge", "Log position of the last committed transaction.", primaries, d => d.Primary.Position);
        Family(writer, "dataplane_db_log_syncs_total", "counter", "Commit log appends made durable (one fsync each).", primaries, d => d.Primary.Log.Syncs.Count);
        Family(writer, "dataplane_db_log_sync_seconds_total", "counter", "Time spent making commit log appends durable.", primaries, d => d.Primary.Log.Syncs.Seconds);

        var replicas = databases
            .SelectMany(d => d.ReplicaStatuses().Select(s => (Labels: $"{Label("database", d.Name)},{Label("replica", s.Id)},{Label("kind", s.Kind)}", Status: s)))
            .ToList();
        Family(writer, "dataplane_db_replica_applied_position", "gauge", "Log position a replica has applied.", replicas, s => s.AppliedPosition);
        Family(writer, "dataplane_db_replica_primary_position", "gauge", "Log position of the primary, as the replica's host last knew it.", replicas, s => s.PrimaryPosition);
        Family(writer, "dataplane_db_replica_lag_positions", "gauge", "Committed transactions a replica has not applied yet.", replicas, s => s.LagPositions);
        Family(writer, "dataplane_db_replica_lag_milliseconds", "gauge", "Age of the oldest transaction a replica has not applied yet (0 when caught up).", replicas, s => s.LagMilliseconds);
        Family(writer, "dataplane_db_replica_apply_lag_p50_milliseconds", "gauge", "Median time from durable commit to visible on the replica.", replicas, s => s.LagP50Milliseconds);
        Family(writer, "dataplane_db_replica_apply_lag_p99_milliseconds", "gauge", "99th percentile of the time from durable commit to visible on the replica.", replicas, s => s.LagP99Milliseconds);
    }

    private static string Label(string key, string value) => $"{key}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"";

    private static void Family<T>(TextWriter writer, string name, string type, string help, List<(string Labels, T Item)> series, Func<T, double?> value)
    {
        writer.Write($"# HELP {name} {help}\n# TYPE {name} {type}\n");
        foreach (var (labels, item) in series)
        {
            if (value(item) is { } v && double.IsFinite(v))
                writer.Write(string.Create(CultureInfo.InvariantCulture, $"{name}{{{labels}}} {v:0.######}\n"));
        }
    }
}
