using System.Diagnostics.Metrics;
using DataPlane.Database.Hosting;

namespace DataPlane.Database.Http;

/// <summary>
/// Positions, log syncs and replica lag on the <c>DataPlane.Databases</c> meter, read from the open databases when
/// scraped (the catalog opens them at startup, <see cref="DatabaseStartup"/>).
/// </summary>
internal sealed class DatabaseMetrics
{
    public const string MeterName = "DataPlane.Databases";

    public DatabaseMetrics(DatabaseCatalog catalog, IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        IEnumerable<(ReplicatedDatabase Database, KeyValuePair<string, object?> Tag)> Primaries() =>
            catalog.Snapshot().OfType<ReplicatedDatabase>().Select(d => (d, new KeyValuePair<string, object?>("database", d.Name)));
        IEnumerable<(ReplicaStatus Status, KeyValuePair<string, object?>[] Tags)> Replicas() =>
            catalog.Snapshot().SelectMany(d => d.ReplicaStatuses().Select(s => (s, new KeyValuePair<string, object?>[] { new("database", d.Name), new("replica", s.Id), new("kind", s.Kind) })));

        meter.CreateObservableGauge("dataplane_db_primary_position", () => Primaries().Select(p => new Measurement<long>(p.Database.Primary.Position, p.Tag)),
            description: "Log position of the last committed transaction.");
        meter.CreateObservableCounter("dataplane_db_log_syncs_total", () => Primaries().Select(p => new Measurement<long>(p.Database.Primary.Log.Syncs.Count, p.Tag)),
            description: "Commit log appends made durable (one fsync each).");
        meter.CreateObservableCounter("dataplane_db_log_sync_seconds_total", () => Primaries().Select(p => new Measurement<double>(p.Database.Primary.Log.Syncs.Seconds, p.Tag)),
            description: "Time spent making commit log appends durable.");
        meter.CreateObservableGauge("dataplane_db_replica_applied_position", () => Replicas().Select(r => new Measurement<long>(r.Status.AppliedPosition, r.Tags)),
            description: "Log position a replica has applied.");
        meter.CreateObservableGauge("dataplane_db_replica_primary_position", () => Replicas().Select(r => new Measurement<long>(r.Status.PrimaryPosition, r.Tags)),
            description: "Log position of the primary, as the replica's host last knew it.");
        meter.CreateObservableGauge("dataplane_db_replica_lag_positions", () => Replicas().Select(r => new Measurement<long>(r.Status.LagPositions, r.Tags)),
            description: "Committed transactions a replica has not applied yet.");
        meter.CreateObservableGauge("dataplane_db_replica_lag_milliseconds",
            () => Replicas().Where(r => r.Status.LagMilliseconds is { } v && double.IsFinite(v)).Select(r => new Measurement<double>(r.Status.LagMilliseconds!.Value, r.Tags)),
            description: "Age of the oldest transaction a replica has not applied yet (0 when caught up).");
    }
}
