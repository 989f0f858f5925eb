using System.Collections.Concurrent;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Scanning;
using DataPlane.Iceberg.Sorting;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Compaction by bin-packing: per partition of the current spec, the data files smaller than three quarters of the target
/// size, and every file that row-level deletes apply to, are read with their deletes applied and written again by the
/// table's writer (its <c>write.parquet.*</c> properties) into files near the target (<c>write.target-file-size-bytes</c>,
/// 128 MiB when the table does not set it). Each file group (a partition's files, up to <see cref="Options.MaxGroupBytes"/>
/// of input) is its own <c>replace</c> commit, so a large table makes progress group by group and one failure loses one
/// group's work.
/// <para>
/// Never a row lost or doubled under concurrent writers: the new files carry the data sequence number of the snapshot the
/// rewrite read, so equality deletes committed meanwhile still apply to their rows; each attempt's metadata is checked,
/// and a position delete committed meanwhile against a rewritten file, or a rewritten file removed meanwhile, refuses the
/// commit. The group is then planned again from the fresh table, a few times, or given up (its new files, never
/// referenced, are deleted). Appends that landed meanwhile are kept: the commit removes only the rewritten files from the
/// fresh parent. Delete files are dropped with the rewrite only when every data file they applied to was rewritten and no
/// data file committed meanwhile falls under them.
/// </para>
/// <para>
/// With <see cref="RewriteStrategy.Sort"/> each group's rows are sorted by the table's sort order, or by the order
/// <see cref="Options.SortOrder"/> gives (a sort order or a z-order, see <see cref="RowOrder"/>), in at most
/// <see cref="Options.SortMemoryBytes"/> of memory (sorted runs spill to a local folder and are merged), and cut into files
/// near the target, so a linear sort leaves files whose ranges of the first sort column do not overlap. Files not written in
/// that order are rewritten whatever their size. The new files carry the id of the table's sort order they follow
/// (<c>sort_order_id</c>), or 0 (unsorted, as Iceberg's Spark rewrite does) for a z-order or an order the table does not hold.
/// </para>
/// </summary>
public sealed class RewriteDataFiles(Table table)
{
    public const long DefaultTargetFileSizeBytes = 128L * 1024 * 1024;
    public const long DefaultSortMemoryBytes = 256L * 1024 * 1024;

    public sealed record Options
    {
        /// <summary>Instead of the table's <c>write.target-file-size-bytes</c> (or 128 MiB).</summary>
        public long? TargetFileSizeBytes { get; init; }
        /// <summary>A partition is rewritten when it has at least this many small files (or any file with deletes).</summary>
        public int MinInputFiles { get; init; } = 5;
        /// <summary>Input bytes of one group, one commit; default ten times the target.</summary>
        public long? MaxGroupBytes { get; init; }
        /// <summary>Plans a group again after a conflicting commit this many times before giving it up.</summary>
        public int MaxAttempts { get; init; } = 3;
        /// <summary>Say which groups would be rewritten; write and change nothing.</summary>
        public bool DryRun { get; init; }
        /// <summary>Shared bytes-per-second budget of reads and writes.</summary>
        public IoBudget Budget { get; init; } = IoBudget.Unlimited;
        /// <summary>Bin-pack (default), or sort each group's rows.</summary>
        public RewriteStrategy Strategy { get; init; }
        /// <summary>Sort: the order, as <see cref="RowOrder.Parse"/> reads it (<c>id DESC NULLS LAST, name</c>, <c>zorder(a, b)</c>);
        /// null: the table's sort order.</summary>
        public string? SortOrder { get; init; }
        /// <summary>Sort: Arrow bytes of a group's rows held in memory before a sorted run is spilled to disk.</summary>
        public long SortMemoryBytes { get; init; } = DefaultSortMemoryBytes;
        /// <summary>Sort: the folder sorted runs are spilled to (default: the system's temporary folder).</summary>
        public string? SpillDirectory { get; init; }
    }

    public sealed record Result(
        int Groups,
        int GroupsCommitted,
        int FilesRewritten,
        int FilesWritten,
        int DeleteFilesRemoved,
        long BytesRead,
        long BytesWritten,
        IReadOnlyList<long> Snapshots,
        IReadOnlyList<string> Failures,
        bool DryRun)
    {
        /// <summary>Sort: the order the rows were written in (with the columns' names); null for bin-pack.</summary>
        public string? Order { get; init; }
        /// <summary>Sort: sorted runs spilled to disk because a group did not fit in the memory budget.</summary>
        public int RunsSpilled { get; init; }
    }

    /// <summary>A refused attempt: the group is planned again from fresh metadata.</summary>
    private sealed class ConflictException(string message) : Exception(message);

    private sealed record Group(PartitionSpec Spec, PartitionData Partition, IReadOnlyList<FileScanTask> Tasks, IReadOnlyList<DataFile> DroppedDeletes)
    {
        public long InputBytes => Tasks.Sum(t => t.File.FileSizeInBytes);
    }

    /// <param name="Order">Sort: the order of the rows written; null for bin-pack.</param>
    /// <param name="OrderId">Sort: the <c>sort_order_id</c> of the files written.</param>
    private sealed record Plan(Snapshot Start, IReadOnlySet<string> StartManifests, long Target, IReadOnlyList<Group> Groups, RowOrder? Order, int OrderId);

    public async Task<Result> RunAsync(Options? options = null, IProgress<MaintenanceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        if (options.MinInputFiles < 1) throw new ArgumentException($"A partition needs at least one input file to be rewritten; {options.MinInputFiles} was asked.");
        await table.RefreshAsync(cancellationToken);
        var plan = await PlanAsync(options, null, cancellationToken);
        var order = plan?.Order?.ToString(table.Metadata.CurrentSchema);
        if (plan is null || options.DryRun)
            return new Result(plan?.Groups.Count ?? 0, 0, plan?.Groups.Sum(g => g.Tasks.Count) ?? 0, 0, plan?.Groups.Sum(g => g.DroppedDeletes.Count) ?? 0, 0, 0, [], [], options.DryRun)
            {
                Order = order,
            };

        int committed = 0, rewritten = 0, written = 0, deletesRemoved = 0, spilled = 0;
        long bytesRead = 0, bytesWritten = 0;
        var snapshots = new List<long>();
        var failures = new List<string>();
        var totalFiles = plan.Groups.Sum(g => g.Tasks.Count);
        long filesDone = 0;
        var ratio = new OutputRatio();
        foreach (var planned in plan.Groups)
        {
            var (current, group) = (plan, planned);
            for (int attempt = 1; ; attempt++)
            {
                var outcome = await RewriteAsync(current, group, options, ratio, p => progress?.Report(new MaintenanceProgress("rewriting", filesDone + p, totalFiles)), cancellationToken);
                bytesRead += outcome.BytesRead;
                spilled += outcome.RunsSpilled;
                if (outcome.Snapshot is { } snapshot)
                {
                    committed++;
                    rewritten += group.Tasks.Count;
                    written += outcome.Written.Count;
                    deletesRemoved += group.DroppedDeletes.Count;
                    bytesWritten += outcome.Written.Sum(f => f.FileSizeInBytes);
                    snapshots.Add(snapshot.SnapshotId);
                    break;
                }
                if (attempt >= options.MaxAttempts)
                {
                    failures.Add($"partition {Describe(group)}: gave up after {attempt} attempts: {outcome.Conflict}");
                    break;
                }
                // Planned again on the fresh table: the same partition, as it is now.
                await table.RefreshAsync(cancellationToken);
                var again = await PlanAsync(options, (group.Spec.SpecId, group.Partition), cancellationToken);
                if (again?.Groups.FirstOrDefault() is not { } fresh)
                    break; // nothing left to rewrite there
                (current, group) = (again, fresh);
            }
            filesDone += planned.Tasks.Count;
        }
        return new Result(plan.Groups.Count, committed, rewritten, written, deletesRemoved, bytesRead, bytesWritten, snapshots, failures, false)
        {
            Order = order,
            RunsSpilled = spilled,
        };
    }

    /// <summary>The order a rewrite with <paramref name="strategy"/> writes rows in: null for bin-pack; for sort,
    /// <paramref name="sortOrder"/> read against the table's schema, or the table's sort order.</summary>
    /// <exception cref="ArgumentException">The order is not one of this table, or the table has none to sort by.</exception>
    public static RowOrder? OrderOf(TableMetadata metadata, RewriteStrategy strategy, string? sortOrder) =>
        strategy != RewriteStrategy.Sort ? null
        : !string.IsNullOrWhiteSpace(sortOrder) ? RowOrder.Parse(sortOrder, metadata.CurrentSchema)
        : metadata.DefaultSortOrder.IsUnsorted ? throw new ArgumentException("The table has no sort order to sort by; give one (e.g. 'id DESC NULLS LAST, name' or 'zorder(a, b)').")
        : RowOrder.Of(metadata.DefaultSortOrder);

    /// <summary>The groups to rewrite in the current snapshot (of one partition only, when <paramref name="only"/> is given); null without a snapshot.</summary>
    private async Task<Plan?> PlanAsync(Options options, (int SpecId, PartitionData Partition)? only, CancellationToken ct)
    {
        var m = table.Metadata;
        if (m.CurrentSnapshot is not { } start) return null;
        var writer = TableWriteProperties.Apply(m.Properties, new DataFileWriterOptions { TargetFileSizeBytes = DefaultTargetFileSizeBytes });
        var target = options.TargetFileSizeBytes ?? writer.TargetFileSizeBytes;
        if (target <= 0) throw new ArgumentException($"The target file size must be positive; {target} was asked.");
        var maxGroup = options.MaxGroupBytes ?? (target > long.MaxValue / 10 ? long.MaxValue : target * 10);
        if (options.SortMemoryBytes <= 0) throw new ArgumentException($"The sort's memory budget must be positive; {options.SortMemoryBytes} was asked.");
        var order = OrderOf(m, options.Strategy, options.SortOrder);
        // Only an order the table holds has an id; any other is written as unsorted (0), as Iceberg's Spark rewrite does.
        var orderId = order?.SortOrder is { } linear ? m.SortOrders.FirstOrDefault(o => !o.IsUnsorted && o.SameOrder(linear))?.OrderId ?? 0 : 0;
        var startManifests = (await SnapshotManifests.ReadAsync(table.IO, start, ct)).Select(x => x.ManifestPath).ToHashSet(StringComparer.Ordinal);
        var tasks = await table.NewScan().UseSnapshot(start.SnapshotId).PlanFilesAsync(ct);
        // Which data files each delete file applies to: it can go with the rewrite only if all of them are rewritten.
        var appliesTo = new Dictionary<string, List<FileScanTask>>(StringComparer.Ordinal);
        foreach (var task in tasks)
            foreach (var d in task.DeleteFiles)
                (appliesTo.TryGetValue(d.FilePath, out var list) ? list : appliesTo[d.FilePath] = []).Add(task);

        var groups = new List<Group>();
        // Only files of the current spec: written again under another spec, rows would leave the reach of their partition's deletes.
        foreach (var partition in tasks.Where(t => t.Spec.SpecId == m.DefaultSpecId).GroupBy(t => t.File.Partition))
        {
            if (only is { } o && (o.SpecId != m.DefaultSpecId || !o.Partition.Equals(partition.Key))) continue;
            // A file the sort rewrites whatever its size: not written in the order.
            bool Unsorted(FileScanTask t) => order is not null && t.File.SortOrderId != orderId;
            var candidates = partition.Where(t => t.File.FileSizeInBytes < target * 3 / 4 || t.DeleteFiles.Count > 0 || Unsorted(t))
                .OrderBy(t => t.DataSequenceNumber).ThenBy(t => t.File.FilePath, StringComparer.Ordinal).ToList();
            bool withDeletes = candidates.Any(t => t.DeleteFiles.Count > 0);
            // A large file not in the order is sorted however few there are; small ones wait for min-input-files, or a
            // partition with one new file a second would be rewritten at every pass.
            bool largeUnsorted = candidates.Any(t => t.File.FileSizeInBytes >= target * 3 / 4 && Unsorted(t));
            if (candidates.Count < options.MinInputFiles && !withDeletes && !largeUnsorted && !(candidates.Count >= 2 && candidates.Sum(t => t.File.FileSizeInBytes) >= target))
                continue;
            var spec = partition.First().Spec;
            // Bin-pack into groups of at most maxGroup input bytes (one file at least).
            var current = new List<FileScanTask>();
            long bytes = 0;
            foreach (var task in candidates)
            {
                if (current.Count > 0 && bytes + task.File.FileSizeInBytes > maxGroup)
                {
                    groups.Add(MakeGroup(spec, partition.Key, current, appliesTo));
                    current = [];
                    bytes = 0;
                }
                current.Add(task);
                bytes += task.File.FileSizeInBytes;
            }
            if (current.Count > 1 || current.Count == 1 && (current[0].DeleteFiles.Count > 0 || Unsorted(current[0])))
                groups.Add(MakeGroup(spec, partition.Key, current, appliesTo));
        }
        return new Plan(start, startManifests, target, groups, order, orderId);
    }

    /// <summary>How many of <paramref name="tasks"/>, from <paramref name="first"/>, make the next bin: files whose sizes add
    /// up to about <paramref name="inputBytes"/> (one file at least), an output file.</summary>
    private static int NextBin(IReadOnlyList<FileScanTask> tasks, int first, long inputBytes)
    {
        long bytes = 0;
        int i = first;
        // A file joins the bin while that brings the bin nearer the size than leaving it out would.
        for (; i < tasks.Count; i++)
        {
            var size = tasks[i].File.FileSizeInBytes;
            if (i > first && bytes + size - inputBytes > inputBytes - bytes) break;
            bytes += size;
        }
        return i - first;
    }

    /// <summary>
    /// Output bytes per input byte so far in a run (its groups are rewritten one after another). Rows written again together take less room than they took in many
    /// small files (each of which has its own footer, dictionaries and row-group overhead), often under half; bins of
    /// input sized by that ratio end their files near the target instead of at a fraction of it.
    /// </summary>
    private sealed class OutputRatio
    {
        private long _input, _output;

        /// <summary>Input bytes expected to make a file of <paramref name="target"/> bytes (the input's own size until a bin is written).</summary>
        public long InputFor(long target)
        {
            if (_input == 0 || _output == 0) return target;
            // Bounded: one odd bin (nearly all rows deleted, say) must not make the next files huge or tiny.
            var ratio = Math.Clamp((double)_output / _input, 0.05, 4.0);
            return (long)Math.Min(long.MaxValue / 2, target / ratio);
        }

        public void Add(long input, long output)
        {
            _input += input;
            _output += output;
        }
    }

    private static Group MakeGroup(PartitionSpec spec, PartitionData partition, List<FileScanTask> tasks, Dictionary<string, List<FileScanTask>> appliesTo)
    {
        var paths = tasks.Select(t => t.File.FilePath).ToHashSet(StringComparer.Ordinal);
        var dropped = tasks.SelectMany(t => t.DeleteFiles).DistinctBy(d => d.FilePath)
            .Where(d => appliesTo[d.FilePath].All(t => paths.Contains(t.File.FilePath))).ToList();
        return new Group(spec, partition, tasks, dropped);
    }

    private sealed record Outcome(Snapshot? Snapshot, IReadOnlyList<DataFile> Written, long BytesRead, string? Conflict, int RunsSpilled = 0);

    /// <summary>Writes the group's rows into new files and commits them; on a refused commit the new files are deleted.</summary>
    private async Task<Outcome> RewriteAsync(Plan plan, Group group, Options options, OutputRatio ratio, Action<long> filesDone, CancellationToken ct)
    {
        var m = table.Metadata;
        var started = new ConcurrentBag<string>();
        var properties = TableWriteProperties.Apply(m.Properties);
        var writerOptions = properties with
        {
            // Files end where the input bins end (below), not where the writer's size estimate says: before its first row
            // group is written that estimate is the uncompressed size, which would end files at a fraction of the target.
            TargetFileSizeBytes = long.MaxValue,
            // Every file this rewrite starts, so that none outlives a refused commit.
            OnNewFile = (key, _) =>
            {
                started.Add(key);
                return ValueTask.CompletedTask;
            },
        };
        long bytesRead = 0;
        int runsSpilled = 0;
        List<DataFile> files = [];
        try
        {
            long done = 0;
            if (plan.Order is { } order)
                (bytesRead, runsSpilled) = await SortAsync(plan, order, group, options, ratio, writerOptions, files, filesDone, ct);
            // One output file per bin of input files whose sizes add up to what makes about the target once written
            // again (by the ratio of the bins written so far), so the file is near the target, and the count near total/target.
            for (int first = 0, count; plan.Order is null && first < group.Tasks.Count; first += count)
            {
                count = NextBin(group.Tasks, first, ratio.InputFor(plan.Target));
                await using var writer = new PartitionedDataWriter(table.Store, table.TableKey + "/data", m.CurrentSchema, group.Spec, writerOptions);
                long binInput = 0, binOutput = 0;
                for (int i = first; i < first + count; i++)
                {
                    var task = group.Tasks[i];
                    binInput += task.File.FileSizeInBytes;
                    var size = task.File.FileSizeInBytes + task.DeleteFiles.Sum(d => d.FileSizeInBytes);
                    await options.Budget.TakeAsync(size, ct);
                    await foreach (var batch in ScanTaskReader.ReadAsync(table, task with { ProjectedSchema = m.CurrentSchema }, ct))
                        using (batch)
                            await writer.WriteAsync(batch, ct);
                    bytesRead += size;
                    filesDone(++done);
                }
                foreach (var (partition, written) in await writer.CompleteAsync(ct))
                {
                    await options.Budget.TakeAsync(written.FileSizeInBytes, ct);
                    binOutput += written.FileSizeInBytes;
                    files.Add(written.ToDataFile(table.LocationOf(written.Key), group.Spec.SpecId, partition));
                }
                ratio.Add(binInput, binOutput);
            }
            var removed = group.Tasks.Select(t => t.File.FilePath).ToHashSet(StringComparer.Ordinal);
            var holding = group.Tasks.Select(t => t.ManifestPath).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var snapshot = await table.RewriteFilesAsync(removed, group.DroppedDeletes.Select(d => d.FilePath).ToList(), files, plan.Start.SequenceNumber,
                manifest => manifest.Content == ManifestContent.Deletes || holding.Contains(manifest.ManifestPath) || !plan.StartManifests.Contains(manifest.ManifestPath),
                (fresh, parent, manifests, token) => ValidateAsync(plan, group, removed, fresh, parent, manifests, token),
                null, ct);
            return new Outcome(snapshot, files, bytesRead, null, runsSpilled);
        }
        catch (Exception e) when (e is ConflictException or CommitFailedException)
        {
            // Safe: these files were created by this rewrite under fresh names, and its commit was refused before it
            // applied (a conflict found in the metadata, or every compare-and-swap lost), so nothing references them.
            foreach (var key in started)
                await table.Store.DeleteAsync(key, CancellationToken.None);
            return new Outcome(null, [], bytesRead, e.Message, runsSpilled);
        }
        catch
        {
            // Not committed for certain only when nothing reached the committer; files of a rewrite that failed while
            // writing were never referenced either.
            if (files.Count == 0)
                foreach (var key in started)
                    await table.Store.DeleteAsync(key, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Reads the group's rows (deletes applied) into a sort bounded by the memory budget, then writes them in order into
    /// files of equal row counts, as many as the group's input makes files of the target size (by the output ratio so
    /// far), each carrying the plan's sort order id. Returns the bytes read and the runs the sort spilled.
    /// </summary>
    private async Task<(long BytesRead, int RunsSpilled)> SortAsync(Plan plan, RowOrder order, Group group, Options options, OutputRatio ratio,
        DataFileWriterOptions writerOptions, List<DataFile> files, Action<long> filesDone, CancellationToken ct)
    {
        var m = table.Metadata;
        using var sort = new ExternalSort(new SortKeys(order, m.CurrentSchema), options.SortMemoryBytes, options.SpillDirectory ?? Path.GetTempPath());
        long bytesRead = 0, done = 0;
        foreach (var task in group.Tasks)
        {
            var size = task.File.FileSizeInBytes + task.DeleteFiles.Sum(d => d.FileSizeInBytes);
            await options.Budget.TakeAsync(size, ct);
            await foreach (var batch in ScanTaskReader.ReadAsync(table, task with { ProjectedSchema = m.CurrentSchema }, ct))
                await sort.AddAsync(batch, ct);
            bytesRead += size;
            filesDone(++done);
        }
        var input = group.InputBytes;
        // The first file's rows by the output ratio so far; the rest by the bytes per row the files written so far took.
        long RowsPerFile(long rows, double bytes)
        {
            var count = Math.Max(1, (long)Math.Round(bytes / plan.Target));
            return Math.Max(1, (rows + count - 1) / count);
        }
        var rowsPerFile = RowsPerFile(sort.Rows, (double)input * plan.Target / Math.Max(1, ratio.InputFor(plan.Target)));
        long output = 0, inFile = 0, rowsWritten = 0;
        PartitionedDataWriter? writer = null;
        try
        {
            await foreach (var batch in sort.SortedAsync(ct))
                using (batch)
                {
                    for (int offset = 0; offset < batch.Length;)
                    {
                        writer ??= new PartitionedDataWriter(table.Store, table.TableKey + "/data", m.CurrentSchema, group.Spec, writerOptions);
                        var take = (int)Math.Min(batch.Length - offset, rowsPerFile - inFile);
                        await writer.WriteAsync(take == batch.Length ? batch : batch.Slice(offset, take), ct);
                        offset += take;
                        if ((inFile += take) == rowsPerFile)
                        {
                            output += await CompleteAsync(writer);
                            writer = null;
                            rowsWritten += inFile;
                            inFile = 0;
                            rowsPerFile = RowsPerFile(sort.Rows - rowsWritten, (double)output / rowsWritten * (sort.Rows - rowsWritten));
                        }
                    }
                }
            if (writer is not null)
            {
                output += await CompleteAsync(writer);
                writer = null;
            }
        }
        finally
        {
            if (writer is not null) await writer.DisposeAsync();
        }
        ratio.Add(input, output);
        return (bytesRead, sort.RunsSpilled);

        async Task<long> CompleteAsync(PartitionedDataWriter w)
        {
            long bytes = 0;
            await using (w)
                foreach (var (partition, written) in await w.CompleteAsync(ct))
                {
                    await options.Budget.TakeAsync(written.FileSizeInBytes, ct);
                    bytes += written.FileSizeInBytes;
                    files.Add(written.ToDataFile(table.LocationOf(written.Key), group.Spec.SpecId, partition) with { SortOrderId = plan.OrderId });
                }
            return bytes;
        }
    }

    /// <summary>
    /// What another writer committed since the rewrite read the table must leave its result right: no position delete
    /// against a rewritten file (its rows would come back), and, for the delete files the rewrite drops, no data file they
    /// still apply to. Only manifests that are new since the start are read; appends there are fine.
    /// </summary>
    private async Task ValidateAsync(Plan plan, Group group, IReadOnlySet<string> removed, TableMetadata fresh, Snapshot? parent,
        IReadOnlyList<ManifestFile> manifests, CancellationToken ct)
    {
        if (parent is null)
            throw new ConflictException("the table's main branch has no snapshot any more");
        if (parent.SnapshotId == plan.Start.SnapshotId)
            return;
        var dropped = group.DroppedDeletes;
        foreach (var manifest in manifests.Where(x => !plan.StartManifests.Contains(x.ManifestPath) && x.HasLiveFiles))
        {
            if (manifest.Content == ManifestContent.Data && dropped.Count == 0) continue;
            if (manifest.PartitionSpecId != group.Spec.SpecId && !(manifest.Content == ManifestContent.Deletes && fresh.Spec(manifest.PartitionSpecId).IsUnpartitioned))
                continue;
            using var stream = await table.IO.ReadAsync(manifest.ManifestPath, ct);
            foreach (var entry in ManifestReader.Read(stream, manifest))
            {
                if (!entry.IsLive) continue;
                var file = entry.DataFile;
                var seq = entry.SequenceNumber ?? manifest.SequenceNumber;
                if (manifest.Content == ManifestContent.Deletes)
                {
                    // Equality deletes committed since apply to the new files too (they keep the start's sequence number).
                    if (file.Content == FileContent.PositionDeletes && seq > plan.Start.SequenceNumber && file.Partition.Equals(group.Partition)
                        && (file.ReferencedDataFile is null || removed.Contains(file.ReferencedDataFile)))
                        throw new ConflictException($"position deletes {file.FilePath} were committed meanwhile against files being rewritten");
                    continue;
                }
                if (removed.Contains(file.FilePath) || !file.Partition.Equals(group.Partition)) continue;
                foreach (var d in dropped)
                {
                    var dseq = d.Content == FileContent.PositionDeletes ? seq <= plan.Start.SequenceNumber : seq < plan.Start.SequenceNumber;
                    if (dseq && (d.ReferencedDataFile is null || d.ReferencedDataFile == file.FilePath))
                        throw new ConflictException($"data file {file.FilePath} committed meanwhile may be under delete file {d.FilePath}, which the rewrite drops");
                }
            }
        }
    }

    private static string Describe(Group group) => group.Spec.IsUnpartitioned ? "(unpartitioned)" : string.Join(", ", Enumerable.Range(0, group.Partition.Count).Select(i => group.Partition[i]?.ToString() ?? "null"));
}
