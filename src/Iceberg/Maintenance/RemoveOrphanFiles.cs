using DataPlane.Iceberg.Operations;
using DataPlane.Storage;

namespace DataPlane.Iceberg.Maintenance;

/// <summary>
/// Deletes the files under a table's location that nothing references and that are older than the safety window
/// (<c>dataplane.maintenance.orphan-file-age-ms</c>, 3 days): a writer that died before its commit, an expiry cut short,
/// a commit that lost its race without cleaning up. The only deletion decided from a listing, so it keeps everything that
/// any of these names:
/// <list type="bullet">
/// <item>the metadata, read after the listing (a commit landing meanwhile is seen): every metadata file of its log,
/// statistics file, manifest list, manifest, data and delete file of every snapshot (current, older, branches, tags), in
/// any entry status; when one of them cannot be read, nothing is deleted;</item>
/// <item>the operator-state checkpoints the pipelines' commits name (<see cref="CommitHistory.CheckpointKey"/>), of
/// snapshots and of the markers expiry left;</item>
/// <item>what the caller says is in flight (<see cref="Options.InFlight"/>: the pipelines' journals of files written
/// for their next commit, read after the listing too, so a file listed was recorded before it was created);</item>
/// <item>a file-system table's own <c>version-hint.text</c> and <c>v&lt;N&gt;.metadata.json</c> (its compare-and-swap);</item>
/// <item>and anything younger than the window: writers that record nothing (Spark's tasks) commit within it.</item>
/// </list>
/// </summary>
public sealed class RemoveOrphanFiles(Table table, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public sealed record Options
    {
        /// <summary>Remove only files older than this instead of the table's window.</summary>
        public DateTimeOffset? OlderThan { get; init; }
        /// <summary>Say what would go; delete nothing.</summary>
        public bool DryRun { get; init; }
        /// <summary>Store keys of files being written for commits to come, read after the listing (the pipelines' journals).</summary>
        public Func<CancellationToken, Task<IReadOnlySet<string>>>? InFlight { get; init; }
        public int Parallelism { get; init; } = 4;
    }

    public sealed record Result(int Listed, int Referenced, int KeptYoung, int KeptInFlight, IReadOnlyList<string> Orphans, long OrphanBytes, bool DryRun);

    public async Task<Result> RunAsync(Options? options = null, IProgress<MaintenanceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new Options();
        var prefix = table.TableKey.TrimEnd('/') + "/";
        var olderThan = options.OlderThan ?? _time.GetUtcNow() - TimeSpan.FromMilliseconds(MaintenanceSettings.From(table.Metadata).OrphanFileAgeMs);

        // The listing first: whatever references a listed file was written before it, so it is seen by what is read next.
        var listed = new List<ObjectInfo>();
        await foreach (var info in table.Store.ListAsync(prefix, cancellationToken: cancellationToken))
        {
            listed.Add(info);
            if (listed.Count % 1000 == 0) progress?.Report(new MaintenanceProgress("listing", listed.Count, 0));
        }
        var inFlight = options.InFlight is null ? new HashSet<string>() : await options.InFlight(cancellationToken);
        await table.RefreshAsync(cancellationToken);
        progress?.Report(new MaintenanceProgress("reading metadata", 0, table.Metadata.Snapshots.Count));
        var references = await ReferencedFiles.ReadAsync(table.IO, table.Metadata, table.State.MetadataLocation, cancellationToken);
        if (references.Unreadable.Count > 0)
            throw new InvalidOperationException($"Orphan removal stopped before deleting anything: {references.Unreadable.Count} manifest list(s) or manifest(s) " +
                $"of table {table.Metadata.Location} cannot be read, so the files they name are unknown, e.g. {references.Unreadable[0]}.");
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var location in references.Locations)
            if (KeyOf(location) is { } key) referenced.Add(key);
        var checkpoints = CommitHistory.Checkpoints(table.Metadata).Select(KeyOf).OfType<string>().ToList();

        int young = 0, flying = 0, isReferenced = 0;
        var orphans = new List<ObjectInfo>();
        foreach (var info in listed)
        {
            if (referenced.Contains(info.Key) || IsFileTableProtocol(info.Key, prefix) || checkpoints.Any(c => CommitHistory.InCheckpoint(c, info.Key)))
                isReferenced++;
            else if (inFlight.Contains(info.Key))
                flying++;
            else if (info.LastModified >= olderThan)
                young++;
            else
                orphans.Add(info);
        }
        var keys = orphans.Select(o => o.Key).ToList();
        if (!options.DryRun)
            // Safe: each is under the table's location, was listed before the metadata was read, and no metadata file,
            // snapshot, branch, tag, checkpoint or pipeline journal names it, and it is older than the safety window.
            await FileDeletion.DeleteAsync(table.Store, keys, options.Parallelism, "deleting orphans", progress, cancellationToken);
        return new Result(listed.Count, isReferenced, young, flying, keys, orphans.Sum(o => o.Size), options.DryRun);
    }

    private string? KeyOf(string location)
    {
        try
        {
            return table.KeyOf(location);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>A file-system table's version hint and numbered metadata files: its commit protocol, named by no metadata.</summary>
    private static bool IsFileTableProtocol(string key, string tablePrefix)
    {
        if (!key.StartsWith(tablePrefix + "metadata/", StringComparison.Ordinal)) return false;
        var name = key[(tablePrefix.Length + "metadata/".Length)..];
        if (name == "version-hint.text") return true;
        return name.StartsWith('v') && name.EndsWith(".metadata.json", StringComparison.Ordinal)
            && name.Length > "v.metadata.json".Length && name[1..^".metadata.json".Length].All(char.IsAsciiDigit);
    }
}
