using DataPlane.Iceberg.Manifests;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Merges a table's small manifests (a pipeline's fast appends add one per commit) into few, clustered by partition: the
/// live entries of every manifest under the target size (<c>commit.manifest.target-size-bytes</c>, 8 MiB), per partition
/// spec and content, are sorted by partition and written into manifests of about the target size, so a scan's partition
/// filter rules most of them out from the manifest list's summaries without reading them. The files, their sequence
/// numbers and the table's rows do not change: the commit is a <c>replace</c> snapshot whose manifest list holds the new
/// manifests and every other manifest of its parent, appends that landed meanwhile included (each attempt starts from the
/// fresh parent).
/// </summary>
public sealed class RewriteManifests(Table table)
{
    public const string TargetSizeKey = "commit.manifest.target-size-bytes";
    public const long DefaultTargetSizeBytes = 8L * 1024 * 1024;

    public sealed record Options
    {
        public long? TargetManifestSizeBytes { get; init; }
        /// <summary>Say what would be merged; change nothing.</summary>
        public bool DryRun { get; init; }
    }

    public sealed record Result(int ManifestsReplaced, int ManifestsWritten, long Entries, long BytesRead, long BytesWritten, long? SnapshotId, bool DryRun);

    public async Task<Result> RunAsync(Options? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        await table.RefreshAsync(cancellationToken);
        var m = table.Metadata;
        if (m.CurrentSnapshot is not { } current)
            return new Result(0, 0, 0, 0, 0, null, options.DryRun);
        var target = options.TargetManifestSizeBytes ?? MaintenanceSettings.Positive(m.Properties, TargetSizeKey, DefaultTargetSizeBytes);
        if (options.DryRun)
        {
            var chosen = Choose(await SnapshotManifests.ReadAsync(table.IO, current, cancellationToken), target);
            return new Result(chosen.Sum(g => g.Count()), 0, chosen.Sum(g => g.Sum(x => (long)x.AddedFilesCount + x.ExistingFilesCount)), 0, 0, null, true);
        }

        var cache = new Dictionary<string, (ManifestReader.Header Header, List<ManifestEntry> Live)>(StringComparer.Ordinal);
        List<ManifestFile> written = [];
        HashSet<string> replaced = [];
        Dictionary<string, string> own = [];
        Result? result = null;
        long bytesRead = 0;
        try
        {
            var snapshot = await table.CommitManifestsAsync(async (fresh, parent, existing, snapshotId, ct) =>
            {
                // Rebased, not redone, when the commit that won the race left every merged manifest in place (appends
                // only add manifests): the merged ones hold the same entries, so only the manifest list is new. Redoing
                // the merge each time is what loses every race against a writer that never pauses.
                if (written.Count > 0 && replaced.IsSubsetOf(existing.Select(x => x.ManifestPath)))
                    return (written.Concat(existing.Where(x => !replaced.Contains(x.ManifestPath))).ToList(), own);
                // Safe: a previous attempt's manifests were written under fresh names for a commit that lost its race.
                await DeleteAsync(written);
                written = [];
                var groups = Choose(existing, target);
                if (groups.Count == 0)
                {
                    result = new Result(0, 0, 0, bytesRead, 0, null, false);
                    return (null, new Dictionary<string, string>());
                }
                replaced = groups.SelectMany(g => g).Select(x => x.ManifestPath).ToHashSet(StringComparer.Ordinal);
                long entries = 0;
                foreach (var group in groups)
                {
                    var live = new List<ManifestEntry>();
                    ManifestReader.Header? header = null;
                    long inputBytes = 0;
                    foreach (var manifest in group)
                    {
                        if (!cache.TryGetValue(manifest.ManifestPath, out var read))
                        {
                            using var stream = await table.IO.ReadAsync(manifest.ManifestPath, ct);
                            bytesRead += stream.Length;
                            var all = ManifestReader.Read(stream, manifest, out var h).Where(e => e.IsLive).ToList();
                            cache[manifest.ManifestPath] = read = (h, all);
                        }
                        header ??= read.Header;
                        live.AddRange(read.Live);
                        inputBytes += manifest.ManifestLength;
                    }
                    entries += live.Count;
                    var spec = fresh.Spec(group.Key.SpecId);
                    var order = new PartitionOrder(spec.PartitionType(header!.Schema));
                    live.Sort((a, b) => order.Compare(a.DataFile.Partition, b.DataFile.Partition));
                    var perManifest = (int)Math.Clamp(target / Math.Max(1, inputBytes / Math.Max(1, live.Count)), 1, int.MaxValue);
                    foreach (var chunk in live.Chunk(perManifest))
                        written.Add(await WriteAsync(fresh, header.Schema, spec, group.Key.Content, snapshotId, chunk, ct));
                }
                var manifests = written.Concat(existing.Where(x => !replaced.Contains(x.ManifestPath))).ToList();
                result = new Result(replaced.Count, written.Count, entries, bytesRead, written.Sum(x => x.ManifestLength), null, false);
                own = new Dictionary<string, string>
                {
                    ["manifests-created"] = written.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["manifests-replaced"] = replaced.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["manifests-kept"] = (manifests.Count - written.Count).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["entries-processed"] = entries.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                return (manifests, own);
            }, cancellationToken);
            return result! with { SnapshotId = result!.ManifestsWritten == 0 ? null : snapshot?.SnapshotId };
        }
        catch (CommitFailedException)
        {
            // Safe: the last attempt lost its race too, so nothing references what it wrote.
            await DeleteAsync(written);
            throw;
        }
    }

    /// <summary>How many data manifests the current snapshot lists (what makes planning slow): one read of its manifest list.</summary>
    public static async Task<int> DataManifestsAsync(Table table, CancellationToken cancellationToken = default) =>
        table.Metadata.CurrentSnapshot is { } current
            ? (await SnapshotManifests.ReadAsync(table.IO, current, cancellationToken)).Count(x => x.Content == ManifestContent.Data && x.HasLiveFiles)
            : 0;

    /// <summary>Per spec and content, the manifests under the target size, when there are at least two of them.</summary>
    private static List<IGrouping<(int SpecId, ManifestContent Content), ManifestFile>> Choose(IReadOnlyList<ManifestFile> manifests, long target) =>
        manifests.Where(x => x.HasLiveFiles && x.ManifestLength < target)
            .GroupBy(x => (x.PartitionSpecId, x.Content))
            .Where(g => g.Count() >= 2)
            .ToList();

    private async Task<ManifestFile> WriteAsync(TableMetadata m, Schemas.Schema schema, PartitionSpec spec, ManifestContent content, long snapshotId,
        IEnumerable<ManifestEntry> entries, CancellationToken ct)
    {
        var key = $"{table.IO.KeyOf(m.Location)}/metadata/{Guid.NewGuid()}-m0.avro";
        ManifestFile? result = null;
        await table.IO.WriteAsync(key, s =>
        {
            using var writer = new ManifestWriter(s, schema, spec, snapshotId, content);
            foreach (var e in entries) writer.Add(e with { Status = ManifestEntryStatus.Existing, DataFile = e.DataFile with { SpecId = spec.SpecId } });
            result = writer.Finish(table.IO.LocationOf(key));
        }, ct);
        return result!;
    }

    private async Task DeleteAsync(List<ManifestFile> manifests)
    {
        foreach (var manifest in manifests)
            await table.Store.DeleteAsync(table.IO.KeyOf(manifest.ManifestPath), CancellationToken.None);
    }

    /// <summary>Partition tuples in Iceberg's value order, nulls first.</summary>
    private sealed class PartitionOrder(StructType partitionType) : IComparer<PartitionData>
    {
        public int Compare(PartitionData? a, PartitionData? b)
        {
            for (int i = 0; i < partitionType.Fields.Count; i++)
            {
                var (x, y) = (a![i], b![i]);
                if (x is null || y is null)
                {
                    if (x is null && y is null) continue;
                    return x is null ? -1 : 1;
                }
                var c = partitionType.Fields[i].Type is PrimitiveType p ? ValueComparer.Compare(p, x, y) : 0;
                if (c != 0) return c;
            }
            return 0;
        }
    }
}
