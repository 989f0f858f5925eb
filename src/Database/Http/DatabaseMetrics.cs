using System.Globalization;
using DataPlane.Database.Hosting;

namespace DataPlane.Database.Http;

/// <summary>Replica lag and positions in the Prometheus text format, for the host's /metrics.</summary>
public static class DatabaseMetrics
{
    public static void WritePrometheus(DatabaseCatalog catalog, TextWriter writer)
    {
        var databases = catalog.Snapshot();
        writer.WriteLine("# TYPE dataplane_db_primary_position gauge");
        foreach (var database in databases.OfType<ReplicatedDatabase>())
            writer.WriteLine(FormattableString.Invariant($"dataplane_db_primary_position{{database=\"{database.Name}\"}} {database.Primary.Position}"));
        writer.WriteLine("# TYPE dataplane_db_replica_lag_positions gauge");
        writer.WriteLine("# TYPE dataplane_db_replica_lag_milliseconds gauge");
        writer.WriteLine("# TYPE dataplane_db_replica_applied_position gauge");
        foreach (var database in databases)
        {
            foreach (var s in database.ReplicaStatuses())
            {
                string labels = $"database=\"{database.Name}\",replica=\"{s.Id}\",kind=\"{s.Kind}\"";
                writer.WriteLine(FormattableString.Invariant($"dataplane_db_replica_applied_position{{{labels}}} {s.AppliedPosition}"));
                writer.WriteLine(FormattableString.Invariant($"dataplane_db_replica_lag_positions{{{labels}}} {s.LagPositions}"));
                if (s.LagMilliseconds is { } ms && double.IsFinite(ms))
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dataplane_db_replica_lag_milliseconds{{{labels}}} {ms:0.###}"));
                if (s.LagP99Milliseconds is { } p99)
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dataplane_db_replica_apply_lag_milliseconds{{{labels},quantile=\"0.99\"}} {p99:0.###}"));
            }
        }
    }
}
