namespace DataPlane.Iceberg.Maintenance;

/// <summary>How far a maintenance job is: <see cref="Done"/> of <see cref="Total"/> items of its current phase
/// (manifests read, files written or deleted), for a progress bar.</summary>
public sealed record MaintenanceProgress(string Phase, long Done, long Total);
