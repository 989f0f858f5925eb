using DataPlane.Iceberg.Maintenance;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Maintenance;

/// <summary>
/// Runs one maintenance job on a table with its settings and the run's overrides, and says what it did: the one place
/// where the scheduler of <c>dataplane serve</c> and the <c>dataplane table</c> commands on a local warehouse turn a
/// <see cref="JobRequest"/> into the table library's jobs.
/// </summary>
internal static class JobRunner
{
    /// <summary>An orphan removal run by hand may not look at files younger than this: another writer (one that records
    /// nothing, as Spark's tasks) may be about to commit them.</summary>
    public static readonly TimeSpan MinOrphanAge = TimeSpan.FromMinutes(1);

    /// <summary>A compaction's strategy and sort order: the run's where it gives them (a sort order alone means a sort),
    /// else the table's.</summary>
    /// <exception cref="ArgumentException">A sort order given with the bin-pack strategy.</exception>
    public static (RewriteStrategy Strategy, string? SortOrder) Compaction(JobRequest request, MaintenanceSettings settings)
    {
        if (request.SortOrder is not null && request.Strategy == RewriteStrategy.BinPack)
            throw new ArgumentException($"A sort order ('{request.SortOrder}') was given with the binpack strategy; a sort order needs the sort strategy.");
        var strategy = request.Strategy ?? (request.SortOrder is not null ? RewriteStrategy.Sort : settings.CompactionStrategy);
        return (strategy, strategy == RewriteStrategy.Sort ? request.SortOrder ?? settings.CompactionSortOrder : null);
    }

    /// <param name="inFlight">Store keys being written for commits to come (the pipelines' journals), which orphan removal keeps.</param>
    public static async Task<JobOutcome> RunAsync(Table table, JobRequest request, IoBudget budget, Func<CancellationToken, Task<IReadOnlySet<string>>>? inFlight,
        TimeProvider time, IProgress<MaintenanceProgress>? progress, CancellationToken ct)
    {
        if (request.Job == MaintenanceJob.RemoveOrphanFiles && request.OlderThan is { } olderThan && olderThan > time.GetUtcNow() - MinOrphanAge)
            throw new ArgumentException($"Orphan removal may not look at files written after {time.GetUtcNow() - MinOrphanAge:O} (asked: {olderThan:O}): " +
                $"files of the last {MinOrphanAge.TotalMinutes:0} minute(s) may be another writer's commit in flight.");
        await table.RefreshAsync(ct);
        var settings = MaintenanceSettings.From(table.Metadata);
        switch (request.Job)
        {
            case MaintenanceJob.Compact:
            {
                var (strategy, sortOrder) = Compaction(request, settings);
                var r = await new RewriteDataFiles(table).RunAsync(new RewriteDataFiles.Options
                {
                    TargetFileSizeBytes = request.TargetFileSizeBytes,
                    MinInputFiles = request.MinInputFiles ?? settings.MinInputFiles,
                    DryRun = request.DryRun,
                    Budget = budget,
                    Strategy = strategy,
                    SortOrder = sortOrder,
                    SortMemoryBytes = request.SortMemoryBytes ?? RewriteDataFiles.DefaultSortMemoryBytes,
                }, progress, ct);
                var outcome = request.DryRun ? "dry-run" : r.Groups == 0 ? "nothing-to-do" : r.Failures.Count == 0 ? "succeeded" : r.GroupsCommitted == 0 ? "failed" : "partial";
                var sorted = r.Order is null ? "" : $" sorted by {r.Order}" + (r.RunsSpilled == 0 ? "" : $" ({r.RunsSpilled} sorted run(s) spilled to disk)");
                var summary = request.DryRun
                    ? $"{r.FilesRewritten} file(s) in {r.Groups} group(s) would be rewritten" + (r.Order is null ? "" : $" sorted by {r.Order}")
                    : $"rewrote {r.FilesRewritten} file(s) into {r.FilesWritten}{sorted} in {r.GroupsCommitted} of {r.Groups} group(s), dropped {r.DeleteFilesRemoved} delete file(s)"
                      + (r.Failures.Count == 0 ? "" : "; " + string.Join("; ", r.Failures));
                return new JobOutcome(outcome, summary, r.BytesRead, r.BytesWritten, r.FilesWritten, 0, r.Snapshots,
                    new Dictionary<string, long>
                    {
                        ["groups"] = r.Groups,
                        ["groups_committed"] = r.GroupsCommitted,
                        ["files_rewritten"] = r.FilesRewritten,
                        ["delete_files_removed"] = r.DeleteFilesRemoved,
                        ["runs_spilled"] = r.RunsSpilled,
                    }, []);
            }
            case MaintenanceJob.RewriteManifests:
            {
                var r = await new RewriteManifests(table).RunAsync(new RewriteManifests.Options { DryRun = request.DryRun }, ct);
                var outcome = request.DryRun ? "dry-run" : r.ManifestsWritten == 0 ? "nothing-to-do" : "succeeded";
                var summary = request.DryRun
                    ? $"{r.ManifestsReplaced} manifest(s) would be merged"
                    : $"merged {r.ManifestsReplaced} manifest(s) into {r.ManifestsWritten}";
                return new JobOutcome(outcome, summary, r.BytesRead, r.BytesWritten, r.ManifestsWritten, 0, r.SnapshotId is { } id ? [id] : [],
                    new Dictionary<string, long> { ["manifests_replaced"] = r.ManifestsReplaced, ["entries"] = r.Entries }, []);
            }
            case MaintenanceJob.ExpireSnapshots:
            {
                var r = await new ExpireSnapshots(table, time).RunAsync(new ExpireSnapshots.Options
                {
                    OlderThan = request.OlderThan,
                    RetainLast = request.RetainLast,
                    DryRun = request.DryRun,
                }, progress, ct);
                var outcome = request.DryRun ? "dry-run" : r.ExpiredSnapshots.Count == 0 && r.FilesDeleted == 0 && r.RemovedRefs.Count == 0 ? "nothing-to-do" : "succeeded";
                var summary = $"{(request.DryRun ? "would expire" : "expired")} {r.ExpiredSnapshots.Count} snapshot(s)"
                    + (r.RemovedRefs.Count == 0 ? "" : $" and ref(s) {string.Join(", ", r.RemovedRefs)}")
                    + $", {(request.DryRun ? "would delete" : "deleted")} {r.FilesDeleted} file(s): {r.DataFiles} data, {r.DeleteFiles} delete, {r.Manifests} manifest(s), "
                    + $"{r.ManifestLists} manifest list(s), {r.StatisticsFiles} statistics, {r.MetadataFiles} metadata, {r.Checkpoints} pipeline checkpoint file(s)";
                return new JobOutcome(outcome, summary, r.BytesRead, 0, 0, request.DryRun ? 0 : r.FilesDeleted, [],
                    new Dictionary<string, long>
                    {
                        ["snapshots_expired"] = r.ExpiredSnapshots.Count,
                        ["data_files"] = r.DataFiles,
                        ["delete_files"] = r.DeleteFiles,
                        ["manifests"] = r.Manifests,
                        ["manifest_lists"] = r.ManifestLists,
                        ["statistics_files"] = r.StatisticsFiles,
                        ["metadata_files"] = r.MetadataFiles,
                        ["checkpoints"] = r.Checkpoints,
                    }, request.DryRun ? r.Files.Take(JobOutcome.MaxListedFiles).ToList() : []);
            }
            default:
            {
                var r = await new RemoveOrphanFiles(table, time).RunAsync(new RemoveOrphanFiles.Options
                {
                    OlderThan = request.OlderThan,
                    DryRun = request.DryRun,
                    InFlight = inFlight,
                }, progress, ct);
                var outcome = request.DryRun ? "dry-run" : r.Orphans.Count == 0 ? "nothing-to-do" : "succeeded";
                var summary = $"{(request.DryRun ? "would delete" : "deleted")} {r.Orphans.Count} orphan file(s) ({r.OrphanBytes} bytes) of {r.Listed} listed; " +
                    $"kept {r.KeptYoung} younger than the safety window and {r.KeptInFlight} a pipeline is writing";
                return new JobOutcome(outcome, summary, 0, 0, 0, request.DryRun ? 0 : r.Orphans.Count, [],
                    new Dictionary<string, long>
                    {
                        ["listed"] = r.Listed,
                        ["orphans"] = r.Orphans.Count,
                        ["orphan_bytes"] = r.OrphanBytes,
                        ["kept_young"] = r.KeptYoung,
                        ["kept_in_flight"] = r.KeptInFlight,
                    }, request.DryRun ? r.Orphans.Take(JobOutcome.MaxListedFiles).ToList() : []);
            }
        }
    }
}
