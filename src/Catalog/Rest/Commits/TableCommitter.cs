using System.Collections.Concurrent;
using System.Text.Json;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Rest.Store;

namespace DataPlane.Catalog.Rest.Commits;

/// <summary>
/// Applies commits: check the requirements against the table's current metadata, apply the updates, write the next
/// metadata file, then compare-and-swap the table's metadata location in SQLite. Commits to one table are queued
/// in-process so they do not waste work racing each other; the swap is still what decides, so another process on
/// the same catalog file cannot make a commit disappear. When the swap loses, the commit is re-checked against the
/// new metadata: a requirement that no longer holds is a 409, otherwise it is applied on top.
/// </summary>
internal sealed class TableCommitter(CatalogStore store, MetadataFiles files, TimeProvider time)
{
    private const int MaxAttempts = 20;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>One table's part of a commit: requirements and updates as the client sent them.</summary>
    public sealed record Change(Namespace Namespace, string Name, JsonElement Requirements, JsonElement Updates);

    public sealed record Committed(string MetadataLocation, byte[] Metadata);

    public async Task<IReadOnlyList<Committed>> CommitAsync(IReadOnlyList<Change> changes, CancellationToken cancellationToken)
    {
        var keys = changes.Select(c => c.Namespace.Key + "\u0000" + c.Name).ToList();
        if (keys.Distinct().Count() != keys.Count)
            throw RestException.BadRequest("A transaction lists the same table more than once; merge its requirements and updates into one change.");
        // Lock in key order so two transactions over the same tables cannot deadlock.
        var locks = keys.Order(StringComparer.Ordinal).Select(k => _locks.GetOrAdd(k, _ => new SemaphoreSlim(1, 1))).ToList();
        var taken = 0;
        try
        {
            foreach (var l in locks)
            {
                await l.WaitAsync(cancellationToken).ConfigureAwait(false);
                taken++;
            }
            for (var attempt = 1; ; attempt++)
            {
                var swaps = new List<MetadataSwap>(changes.Count);
                var results = new List<Committed>(changes.Count);
                foreach (var change in changes)
                {
                    var (swap, committed) = await PrepareAsync(change, cancellationToken).ConfigureAwait(false);
                    swaps.Add(swap);
                    results.Add(committed);
                }
                var failed = store.TrySwap(CatalogObjectKind.Table, swaps);
                if (failed < 0) return results;
                if (attempt == MaxAttempts)
                    throw RestException.CommitFailed($"Table {changes[failed].Namespace.Qualify(changes[failed].Name)} kept changing concurrently; gave up after {MaxAttempts} attempts.");
            }
        }
        finally
        {
            for (var i = 0; i < taken; i++) locks[i].Release();
        }
    }

    private async Task<(MetadataSwap, Committed)> PrepareAsync(Change change, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var current = store.LoadMetadataLocation(CatalogObjectKind.Table, change.Namespace, change.Name);
        var creates = change.Requirements.EnumerateArray().Any(r => r.TryGetProperty("type", out var t) && t.ValueEquals("assert-create"));
        MetadataDocument doc;
        if (current is null)
        {
            if (!creates) throw RestException.NoSuchTable(change.Namespace, change.Name);
            doc = MetadataDocument.Empty(files.DefaultLocation(change.Namespace, change.Name), now);
        }
        else
        {
            doc = MetadataDocument.Parse(await files.ReadAsync(current, cancellationToken).ConfigureAwait(false));
            foreach (var requirement in change.Requirements.EnumerateArray())
                doc.Check(requirement);
        }
        var previousUpdatedMs = current is null ? 0 : doc.LastUpdatedMs;
        foreach (var update in change.Updates.EnumerateArray())
            doc.Apply(update, now);
        if (current is null) doc.CompleteCreate();
        else doc.LogPreviousFile(current, previousUpdatedMs);
        var bytes = doc.ToUtf8();
        var location = await files.WriteAsync(doc.Location, current, bytes, cancellationToken).ConfigureAwait(false);
        return (new MetadataSwap(change.Namespace, change.Name, current, location), new Committed(location, bytes));
    }
}
