using System.Globalization;
using DataPlane.Database.Hosting;

namespace DataPlane.Database.Http;

/// <summary>Replica lag and positions in the Prometheus text format, for the host's /metrics.</summary>
public static class DatabaseMetrics
{
    public static void WritePrometheus(DatabaseCatalog catalog, TextWriter writer)
    {
        var databases = catalog.Snapshot();
        writer.WriteLine("# HELP dataplane_db_primary_position Log position of the last committed transaction.");
        writer.WriteLine("# TYPE dataplane_db_primary_position gauge");
        foreach (var database in databases.OfType<ReplicatedDatabase>())
            writer.WriteLine(FormattableString.Invariant($"dataplane_db_primary_position{{database=\"{database.Name}\"}} {database.Primary.Position}"));
        var replicas = databases.SelectMany(d => d.ReplicaStatuses().Select(s => (Labels: $"database=\"{d.Name}\",replica=\"{s.Id}\",kind=\"{s.Kind}\"", Status: s))).ToList();
        Family(writer, "dataplane_db_replica_applied_position", "Log position a replica has applied.", replicas, s => s.AppliedPosition);
        Family(writer, "dataplane_db_replica_lag_positions", "Committed transactions a replica has not applied yet.", replicas, s => s.LagPositions);
        Family(writer, "dataplane_db_replica_lag_milliseconds", "Age of the oldest transaction a replica has not applied yet.", replicas, s => s.LagMilliseconds);
        Family(writer, "dataplane_db_replica_apply_lag_p99_milliseconds", "99th percentile of commit-to-visible time on a replica.", replicas, s => s.LagP99Milliseconds);
    }

    private static void Family(TextWriter writer, string name, string help, List<(string Labels, ReplicaStatus Status)> replicas, Func<ReplicaStatus, double?> value)
    {
        writer.WriteLine($"# HELP {name} {help}");
        writer.WriteLine($"# TYPE {name} gauge");
        foreach (var (labels, status) in replicas)
        {
            if (value(status) is { } v && double.IsFinite(v))
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}{{{labels}}} {v:0.###}"));
        }
    }
}
