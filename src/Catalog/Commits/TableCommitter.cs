using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Metadata;
using TableQueue = DataPlane.Catalog.Commits.GroupQueue<DataPlane.Catalog.Commits.TableCommitter.Change, DataPlane.Catalog.Commits.TableCommitter.Committed>;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// Applies commits with the table-format core's <see cref="TableRequirement"/>s, <see cref="TableUpdate"/>s and
/// <see cref="TableMetadataBuilder"/>: check the requirements against the table's current metadata, apply the
/// updates, write the next metadata file, then compare-and-swap the table's metadata location in SQLite.
/// <para>
/// Commits to one table are grouped: requests that arrive while the table's previous group is being written queue
/// up, and the next group applies them in arrival order, each checked against the state the earlier ones produced
/// (so one whose requirements no longer hold gets its own 409 while the others land), then writes one metadata file
/// and does one swap for all of them. A file write and a swap each cost an fsync, so under concurrent writers the
/// per-commit cost shrinks with the group; the swaps of groups on different tables share one SQLite transaction too
/// (<see cref="SwapBatcher"/>). The swap is still what decides: when another writer of the same catalog
/// store (another process, or an in-process committer that bypasses these handlers) moved the table meanwhile, the
/// whole group is re-applied on top of its state.
/// </para>
/// </summary>
internal sealed class TableCommitter(CatalogStore store, MetadataFiles files, TableLocations locations, TimeProvider time)
{
    private const int MaxAttempts = 20;
    private readonly ConcurrentDictionary<string, TableQueue> _queues = new(StringComparer.Ordinal);
    private readonly SwapBatcher _swapBatcher = new(store);
    // Completed and replaced at every landed commit (IcebergCatalog.NextCommit).
    private TaskCompletionSource _nextCommit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the next commit (of any table, a transaction's too) has landed.</summary>
    public Task NextCommit => Volatile.Read(ref _nextCommit).Task;

    private void Landed() =>
        Interlocked.Exchange(ref _nextCommit, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>One table's part of a commit: requirements and updates (parsed from a client's JSON, or the table library's
    /// own), or, with <paramref name="Replacement"/>, whole metadata computed on the table's metadata file
    /// <c>ExpectedLocation</c> (null: the table must not exist), which lands only if that file is still current.</summary>
    public sealed record Change(Namespace Namespace, string Name, IReadOnlyList<TableRequirement> Requirements, IReadOnlyList<TableUpdate> Updates,
        (string? ExpectedLocation, TableMetadata Metadata)? Replacement = null);

    public sealed record Committed(string MetadataLocation, byte[] Metadata);

    /// <summary>Parses a commit's requirements and updates; malformed ones are a 400 naming the problem.</summary>
    public static Change Parse(Namespace ns, string name, JsonElement requirements, JsonElement updates) =>
        new(ns, name,
            requirements.EnumerateArray().Select(r => Catch(() => TableRequirement.Read(r), "requirement", r)).ToList(),
            updates.EnumerateArray().Select(u => Catch(() => TableUpdate.Read(u), "update", u)).ToList());

    /// <summary>
    /// Commits one table's change as part of the next group on that table. Not cancellable once queued: the group
    /// may already hold it, and a client that went away gets the same outcome as one whose answer was lost.
    /// </summary>
    public async Task<Committed> CommitAsync(Change change)
    {
        var committed = await Queue(change.Namespace, change.Name).RunAsync(change, CommitGroupAsync);
        Landed();
        return committed;
    }

    /// <summary>Commits changes to several tables all or none (<c>POST /v1/transactions/commit</c>), holding each table's queue meanwhile.</summary>
    public async Task CommitTransactionAsync(IReadOnlyList<Change> changes)
    {
        var keys = changes.Select(c => Key(c.Namespace, c.Name)).ToList();
        if (keys.Distinct().Count() != keys.Count)
            throw CatalogException.BadRequest("A transaction lists the same table more than once; merge its requirements and updates into one change.");
        // Take the gates in key order so two transactions over the same tables cannot deadlock; a group holds one gate only.
        var gates = changes.OrderBy(c => Key(c.Namespace, c.Name), StringComparer.Ordinal).Select(c => Queue(c.Namespace, c.Name).Gate).ToList();
        var taken = 0;
        try
        {
            foreach (var gate in gates)
            {
                await gate.WaitAsync();
                taken++;
            }
            for (var attempt = 1; ; attempt++)
            {
                var swaps = new List<MetadataSwap>(changes.Count);
                int failed;
                try
                {
                    foreach (var change in changes)
                    {
                        var current = store.LoadMetadataLocation(CatalogObjectKind.Table, change.Namespace, change.Name);
                        var baseFile = current is null ? null : await files.ReadFileAsync(current, CancellationToken.None);
                        var metadata = Apply(change, baseFile?.Table, current, time.GetUtcNow().ToUnixTimeMilliseconds());
                        if (baseFile is not null && ReferenceEquals(metadata, baseFile.Table)) continue;
                        var moved = await CheckLocationAsync(change, baseFile?.Table, metadata);
                        var written = await files.WriteFileAsync(metadata.Location, current, ToUtf8(metadata), metadata, CancellationToken.None);
                        swaps.Add(new MetadataSwap(change.Namespace, change.Name, current, written.Location, moved));
                    }
                    failed = swaps.Count == 0 ? -1 : store.TrySwap(CatalogObjectKind.Table, swaps);
                }
                catch (CatalogException)
                {
                    // Safe to delete: a later change was refused, or the swap's transaction refused one (a location taken
                    // meanwhile), before any swap applied; nothing references the fresh files written so far.
                    foreach (var swap in swaps)
                        await files.DeleteUnreferencedAsync(swap.Next);
                    throw;
                }
                if (failed < 0)
                {
                    foreach (var swap in swaps)
                        if (swap.Expected is not null) files.Cache.Forget(swap.Expected);
                    Landed();
                    return;
                }
                // Safe to delete: the transaction lost as a whole, so no table moved to any of these fresh files.
                foreach (var swap in swaps)
                    await files.DeleteUnreferencedAsync(swap.Next);
                if (attempt == MaxAttempts)
                    throw CatalogException.CommitFailed($"Table {swaps[failed].Namespace.Qualify(swaps[failed].Name)} kept changing concurrently; gave up after {MaxAttempts} attempts.");
            }
        }
        finally
        {
            for (var i = 0; i < taken; i++) gates[i].Release();
        }
    }

    /// <summary>Applies a group in order on top of the table's current state, writes one file, swaps once; answers every request.</summary>
    private async Task CommitGroupAsync(IReadOnlyList<TableQueue.Entry> group)
    {
        var first = group[0].Request;
        for (var attempt = 1; ; attempt++)
        {
            var current = store.LoadMetadataLocation(CatalogObjectKind.Table, first.Namespace, first.Name);
            var baseFile = current is null ? null : await files.ReadFileAsync(current, CancellationToken.None);
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var state = baseFile?.Table;
            var outcomes = new CatalogException?[group.Count];
            var changed = false;
            for (var i = 0; i < group.Count; i++)
            {
                try
                {
                    // Only the group's first change logs the base file in metadata-log: the states in between have no file.
                    var next = Apply(group[i].Request, state, changed ? null : current, now);
                    await CheckLocationAsync(group[i].Request, state, next);
                    changed |= !ReferenceEquals(next, state);
                    state = next;
                }
                catch (CatalogException e)
                {
                    outcomes[i] = e;
                }
            }
            Committed? committed = null;
            if (!changed)
                committed = baseFile is null ? null : new Committed(baseFile.Location, baseFile.Bytes);
            else
            {
                var written = await files.WriteFileAsync(state!.Location, current, ToUtf8(state), state, CancellationToken.None);
                var moved = baseFile?.Table.Location == state.Location ? null : files.ToTableLocation(state.Location);
                bool swapped;
                try
                {
                    swapped = await _swapBatcher.SwapAsync(new MetadataSwap(first.Namespace, first.Name, current, written.Location, moved));
                }
                catch (CatalogException)
                {
                    // Refused inside the swap's transaction (the location was taken meanwhile): the fresh file is unreferenced.
                    await files.DeleteUnreferencedAsync(written.Location);
                    throw;
                }
                if (!swapped)
                {
                    // Safe to delete: the swap lost, so the table never moved to this fresh file.
                    await files.DeleteUnreferencedAsync(written.Location);
                    if (attempt < MaxAttempts) continue;
                    var gaveUp = CatalogException.CommitFailed($"Table {first.Namespace.Qualify(first.Name)} kept changing concurrently; gave up after {MaxAttempts} attempts.");
                    foreach (var r in group) r.Outcome.TrySetException(gaveUp);
                    return;
                }
                if (current is not null) files.Cache.Forget(current);
                committed = new Committed(written.Location, written.Bytes);
            }
            for (var i = 0; i < group.Count; i++)
            {
                if (outcomes[i] is { } e) group[i].Outcome.TrySetException(e);
                else group[i].Outcome.TrySetResult(committed!);
            }
            return;
        }
    }

    /// <summary>Checks a change's requirements against <paramref name="state"/> and returns the state with its updates applied (the same instance when they change nothing).</summary>
    private TableMetadata Apply(Change change, TableMetadata? state, string? stateLocation, long now)
    {
        if (state is null && !change.Requirements.Any(r => r is TableRequirement.AssertCreate))
            throw CatalogException.NoSuchTable(change.Namespace.Qualify(change.Name));
        foreach (var update in change.Updates)
        {
            switch (update)
            {
                case TableUpdate.AddSnapshot add:
                    CheckReferences(add.Snapshot);
                    break;
                case TableUpdate.SetStatistics set:
                    CheckReference(set.Statistics.Path, $"Statistics file of snapshot {set.Statistics.SnapshotId}");
                    break;
                case TableUpdate.SetPartitionStatistics set:
                    CheckReference(set.PartitionStatistics.Path, $"Partition statistics file of snapshot {set.PartitionStatistics.SnapshotId}");
                    break;
            }
        }
        if (change.Replacement is var (expectedLocation, replacement))
        {
            // A swap of whole metadata: it holds only on the very file it was computed on, so not after an earlier
            // change of this group (stateLocation is then null), nor once another writer moved the table.
            if (state is null ? expectedLocation is not null : stateLocation is null || expectedLocation != stateLocation)
                throw CatalogException.CommitFailed(expectedLocation is null
                    ? $"Table {change.Namespace.Qualify(change.Name)} was created concurrently."
                    : $"Table {change.Namespace.Qualify(change.Name)} was changed by another writer: its metadata is no longer {expectedLocation}.");
            return replacement;
        }
        return Build(() =>
        {
            foreach (var requirement in change.Requirements) requirement.Validate(state);
            var builder = state is null
                ? TableMetadataBuilder.ForNewTable(files.DefaultLocation(change.Namespace, change.Name), Guid.NewGuid().ToString())
                : TableMetadataBuilder.From(state, stateLocation);
            return builder.WithTimestamp(now).ApplyAll(change.Updates).Build();
        });
    }

    /// <summary>
    /// Refuses a table location that another table's overlaps, when a change creates the table or moves it: a purge
    /// of one would otherwise delete the other's files. Returns the new location, or null when it did not change.
    /// </summary>
    private async Task<TableLocation?> CheckLocationAsync(Change change, TableMetadata? before, TableMetadata after)
    {
        if (before is not null && before.Location == after.Location) return null;
        var location = files.ToTableLocation(after.Location);
        await locations.CheckFreeAsync(location, change.Namespace, change.Name, create: before is null, CancellationToken.None);
        return location;
    }

    /// <summary>
    /// Refuses metadata that points at files outside the warehouse (a manifest list at <c>file:///etc/passwd</c>): the
    /// catalog reads and deletes the files a table references, and must only ever touch its own warehouse.
    /// </summary>
    public void CheckReferences(TableMetadata metadata, string metadataLocation)
    {
        foreach (var snapshot in metadata.Snapshots) CheckReferences(snapshot);
        foreach (var s in metadata.Statistics) CheckReference(s.Path, $"Statistics file of snapshot {s.SnapshotId} in {metadataLocation}");
        foreach (var s in metadata.PartitionStatistics) CheckReference(s.Path, $"Partition statistics file of snapshot {s.SnapshotId} in {metadataLocation}");
        foreach (var entry in metadata.MetadataLog) CheckReference(entry.MetadataFile, $"Previous metadata file in {metadataLocation}");
    }

    private void CheckReferences(Snapshot snapshot)
    {
        if (snapshot.ManifestList is { } list) CheckReference(list, $"Manifest list of snapshot {snapshot.SnapshotId}");
        foreach (var manifest in snapshot.Manifests ?? []) CheckReference(manifest, $"Manifest of snapshot {snapshot.SnapshotId}");
    }

    private void CheckReference(string? location, string what) =>
        files.Key(location ?? throw CatalogException.BadRequest($"{what} has no statistics-path."), what);

    /// <summary>Holds the SQLite swaps of this committer, so that a group that has written its file waits to swap (a test seam).</summary>
    internal Task<IDisposable> HoldSwapsAsync() => _swapBatcher.HoldAsync();

    /// <summary>Holds a table's queue as a running group does, so that the commits arriving meanwhile form the next group (a test seam).</summary>
    internal async Task<IDisposable> HoldAsync(Namespace ns, string name)
    {
        var gate = Queue(ns, name).Gate;
        await gate.WaitAsync();
        return new Release(gate);
    }

    /// <summary>How many commits wait for the table's next group (a test seam).</summary>
    internal int Waiting(Namespace ns, string name) => Queue(ns, name).Waiting;

    internal sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }

    private TableQueue Queue(Namespace ns, string name) => _queues.GetOrAdd(Key(ns, name), _ => new TableQueue());

    private static string Key(Namespace ns, string name) => ns.Key + "\u0000" + name;

    /// <summary>Runs the core's metadata code, turning its refusals into the REST answers: 409 for a failed requirement, 400 for an invalid update.</summary>
    public static TableMetadata Build(Func<TableMetadata> build)
    {
        try
        {
            return build();
        }
        catch (CommitFailedException e)
        {
            throw CatalogException.CommitFailed(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw CatalogException.BadRequest(e.Message);
        }
    }

    public static TableMetadata ReadMetadata(byte[] bytes, string location)
    {
        try
        {
            return TableMetadataJson.Read(bytes);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw CatalogException.BadRequest($"{location} is not valid table metadata: {e.Message}");
        }
    }

    public static byte[] ToUtf8(TableMetadata metadata) => TableMetadataJson.WriteUtf8(metadata);

    private static T Catch<T>(Func<T> read, string what, JsonElement json)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException or JsonException)
        {
            var text = json.GetRawText();
            throw CatalogException.BadRequest($"Invalid {what} {(text.Length > 200 ? text[..200] + "..." : text)}: {e.Message}");
        }
    }
}
