using System.Security.Cryptography;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Schemas;
using DataPlane.Iceberg.Sorting;
using DataPlane.Storage;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// An Iceberg table on object storage: every change is a new metadata file committed through an
/// <see cref="ITableCommitter"/> (compare-and-swap). Data changes are snapshots (append, overwrite, replace, delete)
/// whose manifests and manifest lists are written under <c>&lt;table&gt;/metadata/</c> with unique names. When another
/// writer wins a commit, the operation is applied again to the fresh metadata (up to
/// <c>commit.retry.num-retries</c>, 4 by default).
/// </summary>
public sealed class Table
{
    private readonly ITableCommitter _committer;
    private readonly TableIO _io;

    private Table(IObjectStore store, ITableCommitter committer, TableState state)
    {
        _io = new TableIO(store);
        _committer = committer;
        State = state;
    }

    public TableState State { get; private set; }
    public TableMetadata Metadata => State.Metadata;
    public Schema Schema => Metadata.CurrentSchema;
    public PartitionSpec Spec => Metadata.DefaultSpec;
    public IObjectStore Store => _io.Store;

    internal TableIO IO => _io;

    /// <summary>The store key of the table's folder (data files go under <c>&lt;key&gt;/data/</c>).</summary>
    public string TableKey => _io.KeyOf(Metadata.Location);

    /// <summary>The key in <see cref="Store"/> of a file this table's metadata names by location.</summary>
    public string KeyOf(string location) => _io.KeyOf(location);

    public static async Task<Table> LoadAsync(IObjectStore store, ITableCommitter committer, CancellationToken cancellationToken = default)
    {
        var state = await committer.LoadAsync(cancellationToken)
            ?? throw new InvalidOperationException("The table does not exist.");
        return new Table(store, committer, state);
    }

    public static async Task<Table> CreateAsync(IObjectStore store, ITableCommitter committer, string location, Schema schema,
        PartitionSpec? spec = null, SortOrder? sortOrder = null, IReadOnlyDictionary<string, string>? properties = null,
        CancellationToken cancellationToken = default)
    {
        var metadata = TableMetadata.NewTable(location, schema, spec, sortOrder, properties);
        var state = await committer.CommitAsync(new TableCommit(null, metadata), cancellationToken);
        return new Table(store, committer, state);
    }

    public async Task RefreshAsync(CancellationToken cancellationToken = default) =>
        State = await _committer.LoadAsync(cancellationToken) ?? throw new InvalidOperationException("The table was dropped.");

    public TableScan NewScan() => new(Metadata, _io);

    /// <summary>Full location for a new data file key, e.g. for the Parquet writer.</summary>
    public string LocationOf(string key) => _io.LocationOf(key);

    /// <summary>Fast append: one new manifest for the files; existing manifests are kept as they are.</summary>
    /// <param name="validate">Checks the metadata the append is about to be committed on, again on every retry after
    /// another writer won; an exception it throws refuses the append. The commit is a compare-and-swap on exactly that
    /// metadata, so what it checked still holds when the snapshot lands (a pipeline checks that its previous commit was
    /// not rolled back).</param>
    public Task<Snapshot> AppendAsync(IReadOnlyCollection<DataFile> files, IReadOnlyDictionary<string, string>? summary = null,
        string branch = SnapshotRef.MainBranch, Action<TableMetadata>? validate = null, CancellationToken cancellationToken = default) =>
        CommitSnapshotAsync("append", files, null, summary, branch, cancellationToken, validate);

    /// <summary>
    /// A row delta (merge-on-read): data files and position or equality delete files in one snapshot, each delete file
    /// applying to the rows of older snapshots only (its data sequence number is the new snapshot's, the same as the added
    /// data files', and an equality delete applies to data files of a lower one). The operation is Java Iceberg's for a row
    /// delta: <c>append</c> for data files alone, <c>delete</c> for delete files alone, <c>overwrite</c> for both.
    /// <paramref name="validate"/> as for <see cref="AppendAsync"/>.
    /// </summary>
    public Task<Snapshot> RowDeltaAsync(IReadOnlyCollection<DataFile> files, IReadOnlyDictionary<string, string>? summary = null,
        string branch = SnapshotRef.MainBranch, Action<TableMetadata>? validate = null, CancellationToken cancellationToken = default)
    {
        bool data = files.Any(f => f.Content == FileContent.Data), deletes = files.Any(f => f.Content != FileContent.Data);
        return CommitSnapshotAsync(deletes ? (data ? "overwrite" : "delete") : "append", files, null, summary, branch, cancellationToken, validate);
    }

    /// <summary>
    /// The locations of every data and delete file named by a snapshot still in the metadata (the current one, older
    /// ones, those of branches and tags), whatever the manifest entry's status: the files no writer may delete while
    /// those snapshots are kept. The walk is the purge's (<see cref="ReferencedFiles"/>), but where the purge keeps going
    /// past a manifest it cannot read, this throws: a file such a manifest names cannot be proven unreferenced.
    /// </summary>
    public async Task<IReadOnlySet<string>> ReferencedFilesAsync(CancellationToken cancellationToken = default)
    {
        var referenced = await ReferencedFiles.ReadAsync(_io, Metadata, null, cancellationToken);
        if (referenced.Unreadable.Count > 0)
            throw new InvalidDataException(
                $"The files table {TableKey} references cannot all be known: {string.Join(", ", referenced.Unreadable)} cannot be read.");
        return referenced.ContentFiles.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Overwrite by filter: removes the rows matching <paramref name="filter"/> and adds <paramref name="files"/>.
    /// Files whose rows all match (by metrics, or once read) go whole; a file where only some rows match is rewritten
    /// without them (copy-on-write), so the result is exact.</summary>
    public Task<Snapshot> OverwriteAsync(Expression filter, IReadOnlyCollection<DataFile> files, IReadOnlyDictionary<string, string>? summary = null,
        string branch = SnapshotRef.MainBranch, CancellationToken cancellationToken = default) =>
        CommitFilteredAsync("overwrite", filter, files, summary, branch, cancellationToken);

    /// <summary>Replaces files (compaction): the listed files go, the new ones come, data is unchanged.</summary>
    public Task<Snapshot> ReplaceFilesAsync(IReadOnlyCollection<string> removedPaths, IReadOnlyCollection<DataFile> files,
        string branch = SnapshotRef.MainBranch, CancellationToken cancellationToken = default) =>
        CommitSnapshotAsync("replace", files, PathSelector(removedPaths), null, branch, cancellationToken);

    /// <summary>
    /// A rewrite of data files into new ones holding the same rows (compaction, on <c>main</c>): a <c>replace</c> snapshot that
    /// removes <paramref name="removedData"/> and the delete files <paramref name="removedDeletes"/> whose rows the new files
    /// no longer hold, adds <paramref name="added"/> with data sequence number <paramref name="dataSequenceNumber"/> (that
    /// of the snapshot the rewrite read, so deletes committed since still apply to its rows), and keeps everything else of
    /// the parent, files appended meanwhile included. <paramref name="validateAsync"/> checks each attempt's metadata (a
    /// conflicting delete committed meanwhile refuses it); <paramref name="mayHold"/> names the manifests that can list a
    /// removed data file, so the others are not read.
    /// </summary>
    internal Task<Snapshot> RewriteFilesAsync(IReadOnlyCollection<string> removedData, IReadOnlyCollection<string> removedDeletes, IReadOnlyCollection<DataFile> added,
        long dataSequenceNumber, Func<ManifestFile, bool>? mayHold, Func<TableMetadata, Snapshot?, IReadOnlyList<ManifestFile>, CancellationToken, Task> validateAsync,
        IReadOnlyDictionary<string, string>? summary, CancellationToken cancellationToken) =>
        CommitChangeAsync("replace", added, new Removal(PathSelector(removedData), removedDeletes.Count == 0 ? null : PathSelector(removedDeletes), mayHold,
                Expected: removedData.Count + removedDeletes.Count),
            summary, SnapshotRef.MainBranch, cancellationToken, validateAsync, dataSequenceNumber, maintenance: true);

    /// <summary>
    /// A new manifest list for <c>main</c> with the same files (a manifest rewrite): <paramref name="produce"/> gets each
    /// attempt's metadata, the parent and its manifests, and the new snapshot's id, and returns the manifests of the new
    /// snapshot (it must keep every file of the parent) and the summary's own keys, or null manifests when there is nothing
    /// to rewrite (then nothing is committed and the result is null); the totals are the parent's.
    /// </summary>
    internal async Task<Snapshot?> CommitManifestsAsync(
        Func<TableMetadata, Snapshot, IReadOnlyList<ManifestFile>, long, CancellationToken, Task<(IReadOnlyList<ManifestFile>? Manifests, IReadOnlyDictionary<string, string> Summary)>> produce,
        CancellationToken cancellationToken)
    {
        var snapshotId = NewSnapshotId();
        await CommitWithRetryAsync(async (basis, token) =>
        {
            var m = basis.Metadata;
            var parent = m.CurrentSnapshot ?? throw new InvalidOperationException("The table has no snapshot: there are no manifests to rewrite.");
            var existing = await SnapshotManifests.ReadAsync(_io, parent, token);
            var (manifests, own) = await produce(m, parent, existing, snapshotId, token);
            if (manifests is null) return [];
            var sequenceNumber = m.LastSequenceNumber + 1;
            var listKey = $"{_io.KeyOf(m.Location)}/metadata/snap-{snapshotId}-1-{Guid.NewGuid()}.avro";
            await _io.WriteAsync(listKey, s => ManifestList.Write(s, snapshotId, parent.SnapshotId, sequenceNumber, manifests), token);
            var summary = new Dictionary<string, string>(StringComparer.Ordinal) { ["operation"] = "replace" };
            foreach (var (k, v) in parent.Summary)
                if (k.StartsWith("total-", StringComparison.Ordinal)) summary[k] = v;
            foreach (var (k, v) in own) summary[k] = v;
            var snapshot = new Snapshot
            {
                SnapshotId = snapshotId,
                ParentSnapshotId = parent.SnapshotId,
                SequenceNumber = sequenceNumber,
                TimestampMs = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), m.LastUpdatedMs),
                ManifestList = _io.LocationOf(listKey),
                Summary = summary,
                SchemaId = m.CurrentSchemaId,
            };
            return [new TableUpdate.AddSnapshot(snapshot), new TableUpdate.SetSnapshotRef(SnapshotRef.MainBranch, MainRef(m, snapshotId))];
        }, cancellationToken, maintenance: true);
        return Metadata.Snapshot(snapshotId);
    }

    /// <summary>Retries of a maintenance commit: it changes nothing another writer does, and is recomputed cheaply, so it
    /// outlasts a pipeline committing every second.</summary>
    private const int MaintenanceRetries = 20;

    /// <summary>
    /// How a maintenance commit that lost its race tries again: after a wait with jitter growing from Iceberg's
    /// <c>commit.retry.min-wait-ms</c> (100 ms) to <c>commit.retry.max-wait-ms</c> (60 s), so that an attempt starts at a
    /// random point of a busy writer's cycle instead of right behind its commit, where it loses again.
    /// </summary>
    private static RetryPolicy MaintenanceRetry(TableMetadata m) => new()
    {
        MaxAttempts = MaintenanceRetries + 1,
        BaseDelay = TimeSpan.FromMilliseconds(Maintenance.MaintenanceSettings.Positive(m.Properties, "commit.retry.min-wait-ms", 100)),
        MaxDelay = TimeSpan.FromMilliseconds(Maintenance.MaintenanceSettings.Positive(m.Properties, "commit.retry.max-wait-ms", 60_000)),
    };

    /// <summary>Deletes the listed files.</summary>
    public Task<Snapshot> DeleteFilesAsync(IReadOnlyCollection<string> paths, string branch = SnapshotRef.MainBranch, CancellationToken cancellationToken = default) =>
        CommitSnapshotAsync("delete", [], PathSelector(paths), null, branch, cancellationToken);

    /// <summary>Deletes the rows matching <paramref name="filter"/>: whole files where every row matches, and the matching
    /// rows of the others by rewriting them (copy-on-write; the snapshot is then an <c>overwrite</c>).</summary>
    public Task<Snapshot> DeleteWhereAsync(Expression filter, string branch = SnapshotRef.MainBranch, CancellationToken cancellationToken = default) =>
        CommitFilteredAsync("delete", filter, [], null, branch, cancellationToken);

    /// <summary>Row-level delete (merge-on-read): commits position or equality delete files; data files stay, readers
    /// leave the deleted rows out (<see cref="ScanTaskReader"/>).</summary>
    public Task<Snapshot> AddDeleteFilesAsync(IReadOnlyCollection<DataFile> deleteFiles, string branch = SnapshotRef.MainBranch, CancellationToken cancellationToken = default)
    {
        if (deleteFiles.FirstOrDefault(f => f.Content == FileContent.Data) is { } data)
            throw new ArgumentException($"{data.FilePath} is a data file; only position or equality delete files can be added as deletes.");
        return CommitSnapshotAsync("delete", deleteFiles, null, null, branch, cancellationToken);
    }

    public Task CreateBranchAsync(string name, long? snapshotId = null, CancellationToken cancellationToken = default) =>
        SetRefAsync(name, snapshotId, SnapshotRefType.Branch, cancellationToken);

    public Task CreateTagAsync(string name, long? snapshotId = null, CancellationToken cancellationToken = default) =>
        SetRefAsync(name, snapshotId, SnapshotRefType.Tag, cancellationToken);

    public Task RemoveRefAsync(string name, CancellationToken cancellationToken = default) =>
        CommitAsync(m => m.Refs.ContainsKey(name)
            ? [new TableUpdate.RemoveSnapshotRef(name)]
            : throw new ArgumentException($"No branch or tag '{name}'."), cancellationToken);

    /// <summary>Makes an earlier snapshot of <c>main</c> current again (it must be an ancestor of the current one).</summary>
    public Task RollbackToAsync(long snapshotId, CancellationToken cancellationToken = default) =>
        CommitAsync(m =>
        {
            if (m.CurrentSnapshotId is not { } current || m.Ancestors(current).All(s => s.SnapshotId != snapshotId))
                throw new ArgumentException($"Cannot roll back to snapshot {snapshotId}: it is not an ancestor of the current snapshot {m.CurrentSnapshotId}.");
            return [new TableUpdate.SetSnapshotRef(SnapshotRef.MainBranch, MainRef(m, snapshotId))];
        }, cancellationToken);

    /// <summary>Makes any known snapshot current (no ancestry check), e.g. to undo a rollback.</summary>
    public Task SetCurrentSnapshotAsync(long snapshotId, CancellationToken cancellationToken = default) =>
        CommitAsync(m => m.Snapshot(snapshotId) is null
            ? throw new ArgumentException($"No snapshot {snapshotId}.")
            : [new TableUpdate.SetSnapshotRef(SnapshotRef.MainBranch, MainRef(m, snapshotId))], cancellationToken);

    /// <summary>Evolves the schema; on a conflict the change is applied again to the fresh schema.</summary>
    public Task UpdateSchemaAsync(Func<SchemaUpdate, SchemaUpdate> change, CancellationToken cancellationToken = default) =>
        CommitAsync(m =>
        {
            var (schema, last) = change(new SchemaUpdate(m.CurrentSchema, m.LastColumnId)).Apply(m.Schemas.Max(s => s.SchemaId) + 1);
            return [new TableUpdate.AddSchema(schema, last), new TableUpdate.SetCurrentSchema(-1)];
        }, cancellationToken);

    /// <summary>Evolves the default partition spec; new data is written with it, old files keep theirs.</summary>
    public Task UpdateSpecAsync(Func<PartitionSpecUpdate, PartitionSpecUpdate> change, CancellationToken cancellationToken = default) =>
        CommitAsync(m =>
        {
            var (spec, _) = change(new PartitionSpecUpdate(m.CurrentSchema, m.DefaultSpec, m.PartitionSpecs, m.LastPartitionId)).Apply();
            return [new TableUpdate.AddSpec(spec), new TableUpdate.SetDefaultSpec(-1)];
        }, cancellationToken);

    public Task SetPropertiesAsync(IReadOnlyDictionary<string, string> properties, CancellationToken cancellationToken = default) =>
        CommitAsync(_ => [new TableUpdate.SetProperties(properties)], cancellationToken);

    /// <summary>Commits metadata changes computed from the current metadata, recomputing them after a lost race.</summary>
    public async Task<TableState> CommitAsync(Func<TableMetadata, IReadOnlyList<TableUpdate>> changes, CancellationToken cancellationToken = default) =>
        await CommitWithRetryAsync((state, _) => Task.FromResult(changes(state.Metadata)), cancellationToken);

    /// <summary>As <see cref="CommitAsync(Func{TableMetadata, IReadOnlyList{TableUpdate}}, CancellationToken)"/> for a
    /// maintenance job: it changes little and is recomputed cheaply, so it retries more, backing off (<see cref="MaintenanceRetry"/>).</summary>
    internal async Task<TableState> CommitMaintenanceAsync(Func<TableMetadata, IReadOnlyList<TableUpdate>> changes, CancellationToken cancellationToken) =>
        await CommitWithRetryAsync((state, _) => Task.FromResult(changes(state.Metadata)), cancellationToken, maintenance: true);

    /// <param name="maintenance">Retry as maintenance does (<see cref="MaintenanceRetry"/>); a writer retries at once, up to
    /// <c>commit.retry.num-retries</c> times.</param>
    private async Task<TableState> CommitWithRetryAsync(Func<TableState, CancellationToken, Task<IReadOnlyList<TableUpdate>>> produce, CancellationToken ct,
        bool maintenance = false)
    {
        var backoff = maintenance ? MaintenanceRetry(Metadata) : null;
        var retries = backoff is not null ? backoff.MaxAttempts - 1 : int.TryParse(Metadata.Property("commit.retry.num-retries", "4"), out var r) ? r : 4;
        for (var attempt = 0; ; attempt++)
        {
            var basis = State;
            var updates = await produce(basis, ct);
            if (updates.Count == 0) return basis; // nothing to change: no new metadata file
            var updated = TableMetadataBuilder.From(basis.Metadata, basis.MetadataLocation).ApplyAll(updates).Build();
            try
            {
                State = await _committer.CommitAsync(new TableCommit(basis, updated, updates), ct);
                return State;
            }
            catch (CommitFailedException) when (attempt < retries)
            {
                if (backoff is not null) await Task.Delay(backoff.DelayAfter(attempt + 1), ct);
                await RefreshAsync(ct);
            }
        }
    }

    private Task SetRefAsync(string name, long? snapshotId, SnapshotRefType type, CancellationToken ct) =>
        CommitAsync(m =>
        {
            if (m.Refs.ContainsKey(name)) throw new ArgumentException($"Ref '{name}' already exists.");
            var id = snapshotId ?? m.CurrentSnapshotId ?? throw new ArgumentException($"Cannot create '{name}': the table has no snapshot yet.");
            if (m.Snapshot(id) is null) throw new ArgumentException($"No snapshot {id}.");
            return [new TableUpdate.SetSnapshotRef(name, new SnapshotRef(id, type))];
        }, ct);

    private static SnapshotRef MainRef(TableMetadata m, long snapshotId) =>
        m.Refs.TryGetValue(SnapshotRef.MainBranch, out var main) ? main with { SnapshotId = snapshotId } : SnapshotRef.Branch(snapshotId);

    /// <summary>Decides, per live file of the parent snapshot, whether the operation removes it.</summary>
    private delegate bool FileSelector(DataFile file, TableMetadata metadata);

    private static FileSelector PathSelector(IReadOnlyCollection<string> paths)
    {
        var set = paths.ToHashSet(StringComparer.Ordinal);
        return (file, _) => set.Contains(file.FilePath);
    }

    /// <summary>
    /// Removes the rows matching a filter from the branch's live files, then commits. Files the metrics prove fully
    /// matching are removed unread; the others that might match are read: all rows matching removes the file, none
    /// keeps it, some rewrites it with the survivors under the current schema and spec. Files appended concurrently
    /// are not considered (a retry keeps them).
    /// </summary>
    private async Task<Snapshot> CommitFilteredAsync(string operation, Expression filter, IReadOnlyCollection<DataFile> files,
        IReadOnlyDictionary<string, string>? summary, string branch, CancellationToken ct)
    {
        var metadata = Metadata;
        var parent = metadata.SnapshotForRef(branch);
        var removed = new List<string>();
        var added = new List<DataFile>(files);
        var rewritten = false;
        // write.delete.mode=merge-on-read (the reference implementation's property): partly matching files get position
        // delete files instead of being rewritten.
        var mergeOnRead = operation == "delete" && metadata.Property("write.delete.mode", "copy-on-write") == "merge-on-read";
        if (parent is not null)
        {
            var schema = metadata.CurrentSchema;
            var metrics = new MetricsEvaluator(schema);
            var rows = new RowFilter(schema, filter);
            var tasks = await new TableScan(metadata, _io).UseSnapshot(parent.SnapshotId).Filter(filter).PlanFilesAsync(ct);
            foreach (var task in tasks)
            {
                if (metrics.AllRowsMatch(filter, task.File))
                {
                    removed.Add(task.File.FilePath);
                    continue;
                }
                if (mergeOnRead)
                {
                    if (await PositionDeletesOfAsync(task.File, schema, rows, ct) is { } deletes)
                        added.Add(deletes);
                    continue;
                }
                var survivors = await RewriteWithoutAsync(task with { ProjectedSchema = schema }, rows, ct);
                if (survivors is null) continue; // no row matched: the file stays
                removed.Add(task.File.FilePath);
                added.AddRange(survivors);
                rewritten |= survivors.Count > 0;
            }
        }
        if (operation == "delete" && removed.Count == 0 && added.Count == 0)
            throw new ArgumentException($"Nothing to delete: no row matches {filter}.");
        // Planned on this writer's metadata, committed on the branch as it is then: every file planned away must still be
        // live (a file another writer removed meanwhile, a compaction say, holds rows this plan never saw), and so must
        // every file the position deletes name, or they would delete nothing and the rows stay; and no delete committed
        // meanwhile may apply to a file rewritten here, or the rows it deletes would come back in the copy.
        var referenced = added.Where(f => f.Content == FileContent.PositionDeletes).Select(f => f.ReferencedDataFile!).ToHashSet(StringComparer.Ordinal);
        var rewrites = removed.ToHashSet(StringComparer.Ordinal);
        return await CommitChangeAsync(rewritten ? "overwrite" : operation, added, new Removal(PathSelector(removed), Expected: removed.Count), summary, branch, ct,
            referenced.Count == 0 && !rewritten ? null : (_, fresh, manifests, token) => ValidatePlanAsync(operation, parent, referenced, rewrites, fresh, manifests, token));
    }

    /// <summary>
    /// Refuses a delete or overwrite planned on snapshot <paramref name="planned"/> and about to land on
    /// <paramref name="fresh"/> when a file its position deletes name (<paramref name="referenced"/>) is no longer live,
    /// or a delete file committed since the plan may apply to a file it rewrites (<paramref name="rewrites"/>): Iceberg's
    /// row delta and overwrite validations.
    /// </summary>
    private async Task ValidatePlanAsync(string operation, Snapshot? planned, IReadOnlySet<string> referenced, IReadOnlySet<string> rewrites, Snapshot? fresh,
        IReadOnlyList<ManifestFile> manifests, CancellationToken ct)
    {
        if (fresh is null || fresh.SnapshotId == planned?.SnapshotId)
            return;
        long since = planned?.SequenceNumber ?? 0;
        var missing = new HashSet<string>(referenced, StringComparer.Ordinal);
        foreach (var manifest in manifests)
        {
            if (!manifest.HasLiveFiles) continue;
            bool deletes = manifest.Content == ManifestContent.Deletes;
            if (deletes ? rewrites.Count == 0 || manifest.SequenceNumber <= since : missing.Count == 0) continue;
            using var stream = await _io.ReadAsync(manifest.ManifestPath, ct);
            foreach (var entry in ManifestReader.Read(stream, manifest))
            {
                if (!entry.IsLive) continue;
                if (!deletes)
                {
                    missing.Remove(entry.DataFile.FilePath);
                    continue;
                }
                var file = entry.DataFile;
                if ((entry.SequenceNumber ?? manifest.SequenceNumber) > since
                    && (file.Content == FileContent.EqualityDeletes || file.ReferencedDataFile is null || rewrites.Contains(file.ReferencedDataFile)))
                    throw new CommitFailedException($"Cannot {operation}: delete file {file.FilePath}, committed meanwhile, may apply to the files it rewrites; " +
                        "plan it again on the table as it is now.");
            }
        }
        if (missing.Count > 0)
            throw new CommitFailedException($"Cannot {operation}: {missing.Count} of the data files its position deletes refer to were removed by a concurrent commit " +
                $"(e.g. {missing.First()}); plan it again on the table as it is now.");
    }

    /// <summary>Copies the rows of a file that do not match into new files; null when no row matched (nothing to do).</summary>
    private async Task<IReadOnlyList<DataFile>?> RewriteWithoutAsync(FileScanTask task, RowFilter rows, CancellationToken ct)
    {
        long matched = 0;
        await using var writer = new DataFiles.TableDataWriter(this);
        // Rows already deleted by delete files stay deleted: the copy is read with them applied.
        await foreach (var batch in ScanTaskReader.ReadAsync(this, task, ct))
        {
            using (batch)
            {
                var keep = new bool[batch.Length];
                rows.Evaluate(batch, keep);
                for (int i = 0; i < keep.Length; i++)
                {
                    if (keep[i]) matched++;
                    keep[i] = !keep[i];
                }
                using var survivors = DataFiles.ArrowRowSelection.Keep(batch, keep);
                if (survivors is not null)
                    await writer.WriteAsync(survivors, ct);
            }
        }
        // Unfinished files of a writer that is not completed never appear on storage.
        return matched == 0 ? null : await writer.CompleteAsync(ct);
    }

    /// <summary>A position delete file for the rows of a data file that match; null when none does.</summary>
    private async Task<DataFile?> PositionDeletesOfAsync(DataFile file, Schema schema, RowFilter rows, CancellationToken ct)
    {
        var arrowSchema = DataFiles.ArrowSchemaMapping.ToArrow(ScanTaskReader.PositionDeleteSchema);
        var directory = $"{KeyOf(Metadata.Location)}/data";
        // Delete files follow the table's write properties like its data files (codec, sizes, profile).
        await using var writer = new DataFiles.DataFileWriter(Store, directory, ScanTaskReader.PositionDeleteSchema,
            DataFiles.TableWriteProperties.Apply(Metadata.Properties));
        long offset = 0, deleted = 0;
        await foreach (var batch in DataFiles.DataFileReader.ReadAsync(Store, KeyOf(file.FilePath), schema, cancellationToken: ct))
        {
            using (batch)
            {
                var matches = new bool[batch.Length];
                rows.Evaluate(batch, matches);
                var paths = new Apache.Arrow.StringArray.Builder();
                var positions = new Apache.Arrow.Int64Array.Builder();
                for (int i = 0; i < matches.Length; i++)
                {
                    if (!matches[i]) continue;
                    paths.Append(file.FilePath);
                    positions.Append(offset + i);
                }
                offset += batch.Length;
                if (positions.Length == 0) continue;
                deleted += positions.Length;
                await writer.WriteAsync(new Apache.Arrow.RecordBatch(arrowSchema, [paths.Build(), positions.Build()], positions.Length), ct);
            }
        }
        if (deleted == 0) return null;
        var files = await writer.CompleteAsync(ct);
        if (files.Count != 1) throw new InvalidOperationException($"Position deletes of {file.FilePath} took {files.Count} files; expected one.");
        var written = files[0];
        return new DataFile
        {
            Content = FileContent.PositionDeletes,
            FilePath = LocationOf(written.Key),
            SpecId = file.SpecId,
            Partition = file.Partition,
            RecordCount = written.RecordCount,
            FileSizeInBytes = written.FileSizeInBytes,
            ColumnSizes = written.ColumnSizes,
            ValueCounts = written.ValueCounts,
            NullValueCounts = written.NullValueCounts,
            LowerBounds = written.LowerBounds,
            UpperBounds = written.UpperBounds,
            ReferencedDataFile = file.FilePath,
        };
    }

    private Task<Snapshot> CommitSnapshotAsync(string operation, IReadOnlyCollection<DataFile> added, FileSelector? removes,
        IReadOnlyDictionary<string, string>? extraSummary, string branch, CancellationToken ct, Action<TableMetadata>? validate = null) =>
        CommitChangeAsync(operation, added, removes is null ? null : new Removal(removes), extraSummary, branch, ct,
            validate is null ? null : (m, _, _, _) => { validate(m); return Task.CompletedTask; });

    /// <summary>
    /// What a snapshot takes out of its parent: the live data files <see cref="Data"/> selects and, when
    /// <see cref="Deletes"/> is given, the live delete files it selects. <see cref="MayHold"/>, when given, says which of
    /// the parent's manifests can hold one of them (the others are kept unread); every one selected must still be live,
    /// or the commit fails (another writer removed it meanwhile). <see cref="Expected"/>, when known, is how many must go:
    /// fewer live ones refuse the commit from the first attempt.
    /// </summary>
    private sealed record Removal(FileSelector Data, FileSelector? Deletes = null, Func<ManifestFile, bool>? MayHold = null, int? Expected = null);

    /// <param name="validateAsync">Called with the metadata the snapshot is about to be committed on, its parent on the
    /// branch and the parent's manifests, again on every retry; an exception refuses the commit.</param>
    /// <param name="dataSequenceNumber">The data sequence number of the added files, when it is not the commit's own (a
    /// rewrite keeps the one its input had, so deletes committed meanwhile still apply to the rewritten rows).</param>
    private async Task<Snapshot> CommitChangeAsync(string operation, IReadOnlyCollection<DataFile> added, Removal? removes,
        IReadOnlyDictionary<string, string>? extraSummary, string branch, CancellationToken ct,
        Func<TableMetadata, Snapshot?, IReadOnlyList<ManifestFile>, CancellationToken, Task>? validateAsync = null, long? dataSequenceNumber = null,
        bool maintenance = false)
    {
        var snapshotId = NewSnapshotId();
        List<ManifestFile>? addedManifests = null;
        var expectedRemovals = removes is null ? 0 : removes.Expected ?? -1;
        await CommitWithRetryAsync(async (basis, token) =>
        {
            var m = basis.Metadata;
            foreach (var f in added)
            {
                var spec = m.Spec(f.SpecId);
                if (f.Partition.Count != spec.Fields.Count)
                    throw new ArgumentException($"Data file {f.FilePath} has {f.Partition.Count} partition values; spec {spec.SpecId} has {spec.Fields.Count}.");
            }
            var parent = m.SnapshotForRef(branch);
            var existing = parent is null ? [] : await SnapshotManifests.ReadAsync(_io, parent, token);
            if (validateAsync is not null)
                await validateAsync(m, parent, existing, token);
            // Manifests of added files do not depend on the parent, so they are written once and reused by retries.
            addedManifests ??= await WriteAddedManifestsAsync(m, snapshotId, added, dataSequenceNumber, token);
            var manifests = new List<ManifestFile>(addedManifests);
            var deleted = new List<DataFile>();
            var affected = new List<(ManifestFile Manifest, ManifestReader.Header Header, List<ManifestEntry> Live, List<ManifestEntry> Removed)>();
            foreach (var manifest in existing)
            {
                var selector = manifest.Content == ManifestContent.Data ? removes?.Data : removes?.Deletes;
                if (selector is null || !manifest.HasLiveFiles || removes!.MayHold?.Invoke(manifest) == false)
                {
                    if (manifest.HasLiveFiles) manifests.Add(manifest);
                    continue;
                }
                var (header, live, removed) = await SelectAsync(m, manifest, selector, token);
                if (removed.Count == 0)
                {
                    manifests.Add(manifest);
                    continue;
                }
                deleted.AddRange(removed.Select(e => e.DataFile));
                affected.Add((manifest, header, live, removed));
            }
            // The manifests that lose files are merged into one per spec and content: a rewrite of thousands of small files
            // from as many appends writes one manifest, not thousands.
            foreach (var group in affected.GroupBy(a => (a.Manifest.PartitionSpecId, a.Manifest.Content)))
                manifests.Add(await WriteFilteredAsync(m, group.ToList(), snapshotId, token));
            if (removes is not null && deleted.Count == 0 && added.Count == 0 && operation == "delete")
                throw new ArgumentException("Nothing to delete: no live file matches.");
            if (expectedRemovals < 0) expectedRemovals = deleted.Count;
            else if (removes is not null && deleted.Count < expectedRemovals)
                throw new CommitFailedException($"Cannot {operation}: {expectedRemovals - deleted.Count} of the files to remove were removed by a concurrent commit.");

            var sequenceNumber = m.LastSequenceNumber + 1;
            var listKey = $"{_io.KeyOf(m.Location)}/metadata/snap-{snapshotId}-1-{Guid.NewGuid()}.avro";
            await _io.WriteAsync(listKey, s => ManifestList.Write(s, snapshotId, parent?.SnapshotId, sequenceNumber, manifests), token);
            var snapshot = new Snapshot
            {
                SnapshotId = snapshotId,
                ParentSnapshotId = parent?.SnapshotId,
                SequenceNumber = sequenceNumber,
                TimestampMs = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), m.LastUpdatedMs),
                ManifestList = _io.LocationOf(listKey),
                Summary = SnapshotSummary.Build(operation, added, deleted, parent?.Summary, extraSummary),
                SchemaId = m.CurrentSchemaId,
            };
            var reference = m.Refs.TryGetValue(branch, out var r)
                ? (r.IsBranch ? r with { SnapshotId = snapshotId } : throw new ArgumentException($"'{branch}' is a tag; commits go to branches."))
                : SnapshotRef.Branch(snapshotId);
            return [new TableUpdate.AddSnapshot(snapshot), new TableUpdate.SetSnapshotRef(branch, reference)];
        }, ct, maintenance);
        return Metadata.Snapshot(snapshotId)!;
    }

    private async Task<List<ManifestFile>> WriteAddedManifestsAsync(TableMetadata m, long snapshotId, IReadOnlyCollection<DataFile> added, long? dataSequenceNumber,
        CancellationToken ct)
    {
        var result = new List<ManifestFile>();
        var prefix = $"{_io.KeyOf(m.Location)}/metadata/{Guid.NewGuid()}-m";
        var i = 0;
        // Data files and delete files go to manifests of their own content, one per partition spec.
        foreach (var group in added.GroupBy(f => (f.SpecId, Content: f.Content == FileContent.Data ? ManifestContent.Data : ManifestContent.Deletes)))
        {
            var key = $"{prefix}{i++}.avro";
            ManifestFile? manifest = null;
            await _io.WriteAsync(key, s =>
            {
                using var writer = new ManifestWriter(s, m.CurrentSchema, m.Spec(group.Key.SpecId), snapshotId, group.Key.Content);
                foreach (var f in group) writer.Add(new ManifestEntry(ManifestEntryStatus.Added, snapshotId, dataSequenceNumber, null, f));
                manifest = writer.Finish(_io.LocationOf(key));
            }, ct);
            result.Add(manifest!);
        }
        return result;
    }

    /// <summary>A manifest's live entries (spec id set) and those of them <paramref name="selector"/> removes.</summary>
    private async Task<(ManifestReader.Header Header, List<ManifestEntry> Live, List<ManifestEntry> Removed)> SelectAsync(TableMetadata m, ManifestFile manifest,
        FileSelector selector, CancellationToken ct)
    {
        List<ManifestEntry> entries;
        ManifestReader.Header header;
        using (var stream = await _io.ReadAsync(manifest.ManifestPath, ct))
            entries = ManifestReader.Read(stream, manifest, out header).ToList();
        var spec = m.Spec(manifest.PartitionSpecId);
        var live = entries.Where(e => e.IsLive).Select(e => e with { DataFile = e.DataFile with { SpecId = spec.SpecId } }).ToList();
        return (header, live, live.Where(e => selector(e.DataFile, m)).ToList());
    }

    /// <summary>One manifest of the removed files (as DELETED entries of this snapshot) and the other live files (EXISTING)
    /// of manifests that share a spec and content.</summary>
    private async Task<ManifestFile> WriteFilteredAsync(TableMetadata m, IReadOnlyList<(ManifestFile Manifest, ManifestReader.Header Header, List<ManifestEntry> Live, List<ManifestEntry> Removed)> group,
        long snapshotId, CancellationToken ct)
    {
        var first = group[0];
        var spec = m.Spec(first.Manifest.PartitionSpecId);
        var key = $"{_io.KeyOf(m.Location)}/metadata/{Guid.NewGuid()}-m0.avro";
        ManifestFile? result = null;
        await _io.WriteAsync(key, s =>
        {
            using var writer = new ManifestWriter(s, first.Header.Schema, spec, snapshotId, first.Manifest.Content);
            foreach (var (_, _, live, removed) in group)
            {
                var gone = removed.ToHashSet();
                foreach (var e in removed) writer.Add(e with { Status = ManifestEntryStatus.Deleted, SnapshotId = snapshotId });
                foreach (var e in live.Where(e => !gone.Contains(e))) writer.Add(e with { Status = ManifestEntryStatus.Existing });
            }
            result = writer.Finish(_io.LocationOf(key));
        }, ct);
        return result!;
    }

    private static long NewSnapshotId()
    {
        Span<byte> b = stackalloc byte[8];
        RandomNumberGenerator.Fill(b);
        return BitConverter.ToInt64(b) & long.MaxValue;
    }
}
