using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using DataPlane.Catalog.Metadata;
using DataPlane.Catalog.Rest.Http;
using DataPlane.Catalog.Rest.Store;

namespace DataPlane.Catalog.Rest.Commits;

/// <summary>
/// Applies commits with the table-format core's <see cref="TableRequirement"/>s, <see cref="TableUpdate"/>s and
/// <see cref="TableMetadataBuilder"/>: check the requirements against the table's current metadata, apply the
/// updates, write the next metadata file, then compare-and-swap the table's metadata location in SQLite. Commits to
/// one table are queued in-process so they do not waste work racing each other; the swap is still what decides, so
/// another process on the same catalog file cannot make a commit disappear. When the swap loses, the commit is
/// re-checked against the new metadata: a requirement that no longer holds is a 409, otherwise it lands on top.
/// </summary>
internal sealed class TableCommitter(CatalogStore store, MetadataFiles files, TimeProvider time)
{
    private const int MaxAttempts = 20;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>One table's part of a commit, parsed from the client's JSON.</summary>
    public sealed record Change(Namespace Namespace, string Name, IReadOnlyList<TableRequirement> Requirements, IReadOnlyList<TableUpdate> Updates);

    public sealed record Committed(string MetadataLocation, byte[] Metadata);

    /// <summary>Parses a commit's requirements and updates; malformed ones are a 400 naming the problem.</summary>
    public static Change Parse(Namespace ns, string name, JsonElement requirements, JsonElement updates) =>
        new(ns, name,
            requirements.EnumerateArray().Select(r => Catch(() => TableRequirement.Read(r), "requirement", r)).ToList(),
            updates.EnumerateArray().Select(u => Catch(() => TableUpdate.Read(u), "update", u)).ToList());

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
        TableMetadata? baseMetadata = null;
        if (current is not null)
            baseMetadata = ReadMetadata(await files.ReadAsync(current, cancellationToken).ConfigureAwait(false), current);
        else if (!change.Requirements.Any(r => r is TableRequirement.AssertCreate))
            throw RestException.NoSuchTable(change.Namespace, change.Name);
        var metadata = Build(() =>
        {
            foreach (var requirement in change.Requirements) requirement.Validate(baseMetadata);
            var builder = baseMetadata is null
                ? TableMetadataBuilder.ForNewTable(files.DefaultLocation(change.Namespace, change.Name), Guid.NewGuid().ToString())
                : TableMetadataBuilder.From(baseMetadata, current);
            return builder.WithTimestamp(now).ApplyAll(change.Updates).Build();
        });
        var bytes = ToUtf8(metadata);
        var location = await files.WriteAsync(metadata.Location, current, bytes, cancellationToken).ConfigureAwait(false);
        return (new MetadataSwap(change.Namespace, change.Name, current, location), new Committed(location, bytes));
    }

    /// <summary>Runs the core's metadata code, turning its refusals into the REST answers: 409 for a failed requirement, 400 for an invalid update.</summary>
    public static TableMetadata Build(Func<TableMetadata> build)
    {
        try
        {
            return build();
        }
        catch (CommitFailedException e)
        {
            throw RestException.CommitFailed(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw RestException.BadRequest(e.Message);
        }
    }

    public static TableMetadata ReadMetadata(byte[] bytes, string location)
    {
        try
        {
            return TableMetadataJson.Read(Encoding.UTF8.GetString(bytes));
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException)
        {
            throw RestException.BadRequest($"{location} is not valid table metadata: {e.Message}");
        }
    }

    public static byte[] ToUtf8(TableMetadata metadata) => Encoding.UTF8.GetBytes(TableMetadataJson.Write(metadata, indented: false));

    private static T Catch<T>(Func<T> read, string what, JsonElement json)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or InvalidOperationException or JsonException)
        {
            var text = json.GetRawText();
            throw RestException.BadRequest($"Invalid {what} {(text.Length > 200 ? text[..200] + "..." : text)}: {e.Message}");
        }
    }
}
