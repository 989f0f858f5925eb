using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Snapshot expiry with the spec's retention policy ("Snapshot Retention Policy"), then deletion of exactly the files
/// that only the expired snapshots referenced.
/// <list type="number">
/// <item>Branches and tags (never <c>main</c>) whose snapshot is older than their <c>max-ref-age-ms</c> are removed.</item>
/// <item>Every branch's and tag's snapshot is kept, and each branch keeps its ancestors until one is past the branch's
/// <c>min-snapshots-to-keep</c> and either older than <c>max-snapshot-age-ms</c> or past the table's ceiling
/// (<see cref="MaintenanceSettings.MaxSnapshots"/>). Snapshots in no branch's history (rolled
/// back, say) are kept while younger than <c>max-snapshot-age-ms</c>, as Iceberg's own expiry does.</item>
/// <item>The rest are removed in one commit, recomputed on fresh metadata when another writer wins the race; the same
/// commit leaves the pipelines' markers where the history is cut (<see cref="CommitHistory"/>).</item>
/// <item>Only after that commit lands: the manifest lists, manifests, data and delete files and statistics files that the
/// expired snapshots referenced and no snapshot still in the metadata (as committed, so including any that another
/// writer added meanwhile) references as live are deleted; then the metadata files that fell out of
/// <c>metadata-log</c> (beyond <c>write.metadata.previous-versions-max</c>), found by following each file's own log; and
/// the pipelines' operator-state checkpoints that only expired commits named (each writer's last stays, in its marker).</item>
/// </list>
/// Nothing outside the table's location is ever deleted (a file this table references there may be another table's),
/// nor anything a listing found: files no snapshot ever referenced are orphan removal's, after its safety window.
/// </summary>
public sealed class ExpireSnapshots(Table table, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How a run may differ from the table's settings.</summary>
    public sealed record Options
    {
        /// <summary>Expire snapshots older than this instead of the table's <c>history.expire.max-snapshot-age-ms</c>.</summary>
        public DateTimeOffset? OlderThan { get; init; }
        /// <summary>Each branch keeps at least this many snapshots instead of <c>history.expire.min-snapshots-to-keep</c>.</summary>
        public int? RetainLast { get; init; }
        /// <summary>Say what would be expired and deleted; change nothing.</summary>
        public bool DryRun { get; init; }
        /// <summary>Deletes in flight at once.</summary>
        public int Parallelism { get; init; } = 4;
    }

    public sealed record Result(
        IReadOnlyList<long> ExpiredSnapshots,
        IReadOnlyList<string> RemovedRefs,
        int DataFiles,
        int DeleteFiles,
        int Manifests,
        int ManifestLists,
        int StatisticsFiles,
        int MetadataFiles,
        long BytesRead,
        bool DryRun,
        IReadOnlyList<string> Files)
    {
        /// <summary>Files of operator-state checkpoints of pipelines that only expired commits named (<see cref="CommitHistory.CheckpointKey"/>).</summary>
        public int Checkpoints { get; init; }

        public int FilesDeleted => DataFiles + DeleteFiles + Manifests + ManifestLists + StatisticsFiles + MetadataFiles + Checkpoints;
    }

    /// <summary>A metadata file's own log is read at most this many times per run (each step reaches up to
    /// <c>previous-versions-max</c> files further back), so one run's work is bounded; the next run goes on.</summary>
    private const int MaxMetadataChainReads = 100;

    public async Task<Result> RunAsync(Options? options = null, IProgress<MaintenanceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        await table.RefreshAsync(cancellationToken);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        TableMetadata before;
        Plan plan;
        TableMetadata after;
        if (options.DryRun)
        {
            before = table.Metadata;
            plan = Plan.For(before, now, options);
            after = plan.Updates.Count == 0 ? before : TableMetadataBuilder.From(before).ApplyAll(plan.Updates).Build();
        }
        else
        {
            TableMetadata? basis = null;
            Plan? planned = null;
            await table.CommitMaintenanceAsync(m =>
            {
                basis = m;
                planned = Plan.For(m, now, options);
                return planned.Updates;
            }, cancellationToken);
            (before, plan, after) = (basis!, planned!, table.Metadata);
        }

        var io = table.IO;
        var files = new Unreferenced(io, table.TableKey + "/");
        if (plan.Expired.Count > 0)
        {
            await files.FindAsync(before, after, plan.Expired, progress, cancellationToken);
            await files.FindCheckpointsAsync(before, after, cancellationToken);
        }
        await files.FindMetadataFilesAsync(after, table.State.MetadataLocation, cancellationToken);

        var keys = files.InOrder();
        if (!options.DryRun)
            await FileDeletion.DeleteAsync(io.Store, keys, options.Parallelism, "deleting files", progress, cancellationToken);
        return new Result(plan.Expired.Order().ToList(), plan.RemovedRefs, files.DataFiles.Count, files.DeleteFiles.Count, files.Manifests.Count,
            files.ManifestLists.Count, files.StatisticsFiles.Count, files.MetadataFiles.Count, files.BytesRead, options.DryRun, keys)
        {
            Checkpoints = files.Checkpoints.Count,
        };
    }

    /// <summary>What expiry removes from one version of the metadata, and the updates that do it.</summary>
    private sealed record Plan(IReadOnlySet<long> Expired, IReadOnlyList<string> RemovedRefs, IReadOnlyList<TableUpdate> Updates)
    {
        public static Plan For(TableMetadata m, long now, Options options)
        {
            var settings = MaintenanceSettings.From(m);
            var maxAge = options.OlderThan is { } olderThan ? now - olderThan.ToUnixTimeMilliseconds() : settings.MaxSnapshotAgeMs;
            var minKeep = options.RetainLast ?? settings.MinSnapshotsToKeep;
            if (minKeep < 1) throw new ArgumentException($"At least one snapshot of each branch is kept; {minKeep} was asked.");
            var refs = new Dictionary<string, SnapshotRef>(m.Refs);
            if (m.CurrentSnapshotId is { } current && !refs.ContainsKey(SnapshotRef.MainBranch))
                refs[SnapshotRef.MainBranch] = SnapshotRef.Branch(current);
            var removedRefs = new List<string>();
            foreach (var (name, r) in refs.ToList())
            {
                if (name == SnapshotRef.MainBranch) continue;
                var refMaxAge = r.MaxRefAgeMs ?? settings.MaxRefAgeMs;
                if (m.Snapshot(r.SnapshotId) is { } s && refMaxAge != long.MaxValue && s.TimestampMs < now - refMaxAge)
                {
                    refs.Remove(name);
                    removedRefs.Add(name);
                }
            }
            var retained = new HashSet<long>();
            var inSomeBranch = new HashSet<long>();
            foreach (var (_, r) in refs)
            {
                retained.Add(r.SnapshotId);
                if (!r.IsBranch) continue;
                var branchMaxAge = r.MaxSnapshotAgeMs ?? maxAge;
                var branchMinKeep = options.RetainLast ?? r.MinSnapshotsToKeep ?? minKeep;
                int count = 0;
                foreach (var s in m.Ancestors(r.SnapshotId))
                {
                    inSomeBranch.Add(s.SnapshotId);
                    count++;
                    if (count > branchMinKeep && (s.TimestampMs < now - branchMaxAge || count > settings.MaxSnapshots))
                        break;
                    retained.Add(s.SnapshotId);
                }
                // The rest of the branch's history is expired (the walk stopped at the first too old).
                foreach (var s in m.Ancestors(r.SnapshotId)) inSomeBranch.Add(s.SnapshotId);
            }
            foreach (var s in m.Snapshots)
                if (!inSomeBranch.Contains(s.SnapshotId) && s.TimestampMs >= now - maxAge)
                    retained.Add(s.SnapshotId);
            var expired = m.Snapshots.Select(s => s.SnapshotId).Where(id => !retained.Contains(id)).ToHashSet();

            var updates = new List<TableUpdate>();
            foreach (var name in removedRefs) updates.Add(new TableUpdate.RemoveSnapshotRef(name));
            if (expired.Count > 0)
            {
                updates.Add(new TableUpdate.RemoveSnapshots(expired.Order().ToList()));
                var markers = CommitHistory.MarkersAfterExpiry(m, expired);
                var set = markers.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!);
                var remove = markers.Where(p => p.Value is null).Select(p => p.Key).ToList();
                if (set.Count > 0) updates.Add(new TableUpdate.SetProperties(set));
                if (remove.Count > 0) updates.Add(new TableUpdate.RemoveProperties(remove));
            }
            return new Plan(expired, removedRefs, updates);
        }
    }

    /// <summary>The files expiry may delete, each proved unreferenced by the metadata as committed.</summary>
    private sealed class Unreferenced(TableIO io, string tablePrefix)
    {
        public List<string> DataFiles { get; } = [];
        public List<string> DeleteFiles { get; } = [];
        public List<string> Manifests { get; } = [];
        public List<string> ManifestLists { get; } = [];
        public List<string> StatisticsFiles { get; } = [];
        public List<string> MetadataFiles { get; } = [];
        public List<string> Checkpoints { get; } = [];
        public long BytesRead { get; private set; }

        public List<string> InOrder() => [.. Checkpoints, .. DataFiles, .. DeleteFiles, .. Manifests, .. ManifestLists, .. StatisticsFiles, .. MetadataFiles];

        /// <summary>
        /// The pipelines' checkpoint files that the metadata before named and the metadata as committed no longer does:
        /// named by expired snapshots alone. A writer's newest commit below the cut stays as a marker, checkpoint and all,
        /// so a pipeline's last checkpoint is kept however far back its commit is expired. A checkpoint folder (its
        /// location ends in '/': one file per shard) is listed, and each file in it that no kept checkpoint holds goes.
        /// </summary>
        public async Task FindCheckpointsAsync(TableMetadata before, TableMetadata after, CancellationToken ct)
        {
            var kept = CommitHistory.Checkpoints(after).ToHashSet(StringComparer.Ordinal);
            foreach (var checkpoint in CommitHistory.Checkpoints(before))
            {
                if (kept.Contains(checkpoint))
                    continue;
                if (!checkpoint.EndsWith('/'))
                {
                    Add(Checkpoints, checkpoint);
                    continue;
                }
                string folder;
                try
                {
                    folder = io.KeyOf(checkpoint);
                }
                catch (ArgumentException)
                {
                    continue; // outside the store: never ours to delete
                }
                if (!folder.StartsWith(tablePrefix, StringComparison.Ordinal) || folder.Contains("/../", StringComparison.Ordinal))
                    continue;
                await foreach (var file in io.Store.ListAsync(folder, cancellationToken: ct))
                {
                    var location = io.LocationOf(file.Key);
                    if (!kept.Any(k => CommitHistory.InCheckpoint(k, location)))
                        Add(Checkpoints, location);
                }
            }
        }

        public async Task FindAsync(TableMetadata before, TableMetadata after, IReadOnlySet<long> expired, IProgress<MaintenanceProgress>? progress, CancellationToken ct)
        {
            // What the metadata as committed still references: every manifest list, manifest and live file of its snapshots.
            // A file of those that cannot be read makes every other unprovable, so it fails the deletion (the expiry stands).
            var keptLists = new HashSet<string>(StringComparer.Ordinal);
            var keptManifests = new Dictionary<string, ManifestFile>(StringComparer.Ordinal);
            foreach (var snapshot in after.Snapshots)
            {
                if (snapshot.ManifestList is { } list) keptLists.Add(list);
                foreach (var m in await ReadListAsync(snapshot, ct))
                    keptManifests.TryAdd(m.ManifestPath, m);
            }
            var live = new HashSet<string>(StringComparer.Ordinal);
            long read = 0;
            foreach (var manifest in keptManifests.Values)
            {
                // Every one is read, whatever its counts say: a writer that left them out would otherwise lose its files.
                progress?.Report(new MaintenanceProgress("reading kept manifests", read++, keptManifests.Count));
                foreach (var entry in await ReadManifestAsync(manifest, ct))
                    if (entry.IsLive) live.Add(entry.DataFile.FilePath);
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var expiredSnapshots = before.Snapshots.Where(s => expired.Contains(s.SnapshotId)).ToList();
            read = 0;
            foreach (var snapshot in expiredSnapshots)
            {
                progress?.Report(new MaintenanceProgress("reading expired snapshots", read++, expiredSnapshots.Count));
                List<ManifestFile> manifests;
                try
                {
                    manifests = await ReadListAsync(snapshot, ct);
                }
                catch (Exception e) when (CannotFollow(e))
                {
                    continue; // what it names cannot be known: its files stay (orphan removal's, later); so does the list
                }
                if (snapshot.ManifestList is { } list && !keptLists.Contains(list) && seen.Add(list)) Add(ManifestLists, list);
                foreach (var manifest in manifests)
                {
                    if (keptManifests.ContainsKey(manifest.ManifestPath) || !seen.Add(manifest.ManifestPath)) continue;
                    List<ManifestEntry> entries;
                    try
                    {
                        entries = await ReadManifestAsync(manifest, ct);
                    }
                    catch (Exception e) when (CannotFollow(e))
                    {
                        continue;
                    }
                    Add(Manifests, manifest.ManifestPath);
                    foreach (var entry in entries)
                    {
                        var path = entry.DataFile.FilePath;
                        if (live.Contains(path) || !seen.Add(path)) continue;
                        Add(entry.DataFile.Content == FileContent.Data ? DataFiles : DeleteFiles, path);
                    }
                }
            }
            var keptStatistics = after.Statistics.Concat(after.PartitionStatistics).Select(s => s.Path).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var statistics in before.Statistics.Concat(before.PartitionStatistics))
                if (expired.Contains(statistics.SnapshotId) && statistics.Path is { } path && !keptStatistics.Contains(path) && seen.Add(path))
                    Add(StatisticsFiles, path);
        }

        /// <summary>
        /// The metadata files that fell out of <c>metadata-log</c>: the oldest file still logged names, in its own log, the
        /// ones before it, and so on back until a file is already gone.
        /// </summary>
        public async Task FindMetadataFilesAsync(TableMetadata current, string currentLocation, CancellationToken ct)
        {
            var kept = current.MetadataLog.Select(e => e.MetadataFile).ToHashSet(StringComparer.Ordinal);
            kept.Add(currentLocation);
            string? next = current.MetadataLog.Count > 0 ? current.MetadataLog[0].MetadataFile : currentLocation;
            var found = new List<string>();
            for (int reads = 0; next is not null && reads < MaxMetadataChainReads; reads++)
            {
                TableMetadata metadata;
                try
                {
                    using var stream = await io.ReadAsync(next, ct);
                    BytesRead += stream.Length;
                    metadata = TableMetadata.FromJson(System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length));
                }
                catch (Exception e) when (CannotFollow(e))
                {
                    break; // already deleted (by an earlier run), or not ours to read
                }
                var older = metadata.MetadataLog.Select(e => e.MetadataFile).Where(f => !kept.Contains(f) && !found.Contains(f)).ToList();
                if (older.Count == 0) break;
                found.AddRange(older);
                next = older[0];
            }
            // Oldest first, so a run cut short leaves the newer ones reachable from the kept log for the next run.
            foreach (var file in found.AsEnumerable().Reverse())
                if (file.EndsWith(".metadata.json", StringComparison.Ordinal))
                    Add(MetadataFiles, file);
        }

        private void Add(List<string> list, string location)
        {
            string key;
            try
            {
                key = io.KeyOf(location);
            }
            catch (ArgumentException)
            {
                return; // outside the store: never ours to delete
            }
            if (key.StartsWith(tablePrefix, StringComparison.Ordinal) && !key.Contains("/../", StringComparison.Ordinal))
                list.Add(key);
        }

        private async Task<List<ManifestFile>> ReadListAsync(Snapshot snapshot, CancellationToken ct)
        {
            if (snapshot.ManifestList is { } list)
            {
                using var stream = await io.ReadAsync(list, ct);
                BytesRead += stream.Length;
                return ManifestList.Read(stream).ToList();
            }
            return await SnapshotManifests.ReadAsync(io, snapshot, ct);
        }

        private async Task<List<ManifestEntry>> ReadManifestAsync(ManifestFile manifest, CancellationToken ct)
        {
            using var stream = await io.ReadAsync(manifest.ManifestPath, ct);
            BytesRead += stream.Length;
            return ManifestReader.Read(stream, manifest).ToList();
        }

        private static bool CannotFollow(Exception e) => e is not (OperationCanceledException or OutOfMemoryException);
    }
}
