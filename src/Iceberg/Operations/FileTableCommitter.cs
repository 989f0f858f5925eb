using System.Globalization;
using System.Text;
using DataPlane.Iceberg.Metadata;
using DataPlane.Storage;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// Commits for tables without a catalog, following the spec's "File System Tables":
/// version N's metadata is written to a unique file <c>metadata/0000N-&lt;uuid&gt;.metadata.json</c>, then claimed by
/// a put-if-absent of <c>metadata/vN.metadata.json</c> (same content; its user metadata names the unique file).
/// Only one writer can create vN, so that put is the compare-and-swap. <c>metadata/version-hint.text</c> then says N
/// for file-based readers (icebird, DuckDB); it may lag, so loading probes for later versions.
/// </summary>
public sealed class FileTableCommitter : ITableCommitter
{
    private const string LocationKey = "metadata-location";
    private readonly IObjectStore _store;
    private readonly TableIO _io;
    private readonly string _metadataPrefix;

    /// <param name="tableKey">The table's folder within the store, e.g. <c>db/events</c>.</param>
    public FileTableCommitter(IObjectStore store, string tableKey)
    {
        if (!store.SupportsPutIfAbsent)
            throw new NotSupportedException($"The store {store.Location} cannot put-if-absent, so file-based commits would be unsafe; use the REST catalog.");
        _store = store;
        _io = new TableIO(store);
        TableKey = tableKey.Trim('/');
        _metadataPrefix = TableKey + "/metadata/";
    }

    public string TableKey { get; }
    public string TableLocation => _io.LocationOf(TableKey);

    public async Task<TableState?> LoadAsync(CancellationToken cancellationToken = default)
    {
        var version = await HintAsync(cancellationToken);
        if (version == 0) return null;
        while (await _store.HeadAsync(VersionKey(version + 1), cancellationToken) is not null) version++;
        var head = await _store.HeadAsync(VersionKey(version), cancellationToken);
        if (head is null) return null;
        await using var s = await _store.GetAsync(VersionKey(version), cancellationToken: cancellationToken);
        using var reader = new StreamReader(s, Encoding.UTF8);
        var metadata = TableMetadata.FromJson(await reader.ReadToEndAsync(cancellationToken));
        var location = head.Metadata is { } m && m.TryGetValue(LocationKey, out var l) ? l : _io.LocationOf(VersionKey(version));
        return new TableState(metadata, location);
    }

    public async Task<TableState> CommitAsync(TableCommit commit, CancellationToken cancellationToken = default)
    {
        var (expected, updated) = (commit.Expected, commit.Updated);
        var version = expected is null ? 1 : VersionOf(expected.MetadataLocation) + 1;
        var bytes = Encoding.UTF8.GetBytes(updated.ToJson());
        var uniqueKey = $"{_metadataPrefix}{version:D5}-{Guid.NewGuid()}.metadata.json";
        await _store.PutAsync(uniqueKey, new MemoryStream(bytes), new PutOptions { ContentType = "application/json" }, cancellationToken);
        var location = _io.LocationOf(uniqueKey);
        try
        {
            await _store.PutIfAbsentAsync(VersionKey(version), new MemoryStream(bytes),
                new PutOptions { ContentType = "application/json", Metadata = new Dictionary<string, string> { [LocationKey] = location } },
                cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Safe: this writer created uniqueKey (a fresh GUID name) just above, and only the vN file it failed to
            // claim would have referenced it; the vN that exists is another writer's and names its own file.
            await _store.DeleteAsync(uniqueKey, CancellationToken.None);
            throw new CommitFailedException($"Table {TableLocation} was changed by another writer: version {version} already exists.");
        }
        await _store.PutAsync(_metadataPrefix + "version-hint.text", new MemoryStream(Encoding.ASCII.GetBytes(version.ToString(CultureInfo.InvariantCulture))),
            cancellationToken: cancellationToken);
        return new TableState(updated, location);
    }

    private string VersionKey(int version) => $"{_metadataPrefix}v{version}.metadata.json";

    private static int VersionOf(string metadataLocation)
    {
        var name = metadataLocation[(metadataLocation.LastIndexOf('/') + 1)..];
        var digits = name.StartsWith('v') ? name[1..name.IndexOf('.')] : name[..name.IndexOf('-')];
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"Metadata location '{metadataLocation}' has no version number.");
    }

    private async Task<int> HintAsync(CancellationToken ct)
    {
        try
        {
            await using var s = await _store.GetAsync(_metadataPrefix + "version-hint.text", cancellationToken: ct);
            using var reader = new StreamReader(s);
            if (int.TryParse((await reader.ReadToEndAsync(ct)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)) return v;
        }
        catch (ObjectNotFoundException)
        {
        }
        // No (or a damaged) hint: start from version 1 if it exists; LoadAsync probes upward from there.
        return await _store.HeadAsync(VersionKey(1), ct) is null ? 0 : 1;
    }
}
