namespace DataPlane.Maintenance;

/// <summary>The table maintenance jobs, by the names the API, the CLI and the metrics use.</summary>
internal enum MaintenanceJob
{
    Compact,
    RewriteManifests,
    ExpireSnapshots,
    RemoveOrphanFiles,
}

internal static class MaintenanceJobs
{
    /// <summary>In the order a scheduled pass runs them: compaction first, then the manifests it left, then expiry of
    /// what compaction replaced (once old enough), then orphans.</summary>
    public static readonly MaintenanceJob[] All = [MaintenanceJob.Compact, MaintenanceJob.RewriteManifests, MaintenanceJob.ExpireSnapshots, MaintenanceJob.RemoveOrphanFiles];

    public static string Name(this MaintenanceJob job) => job switch
    {
        MaintenanceJob.Compact => "compact",
        MaintenanceJob.RewriteManifests => "rewrite-manifests",
        MaintenanceJob.ExpireSnapshots => "expire-snapshots",
        _ => "remove-orphan-files",
    };

    public static MaintenanceJob Parse(string name) =>
        All.FirstOrDefault(j => j.Name() == name) is var job && job.Name() == name
            ? job
            : throw new ArgumentException($"Unknown maintenance job '{name}'; valid: {string.Join(", ", All.Select(j => j.Name()))}.");
}
