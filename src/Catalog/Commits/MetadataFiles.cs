using DataPlane.Catalog.Store;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Iceberg.Metadata;
using DataPlane.Storage;

namespace DataPlane.Catalog.Commits;

/// <summary>
/// Metadata files in the warehouse. Every commit writes a new file under a fresh name and never rewrites one, so a
/// file can be cached by location for good (<see cref="MetadataCache"/>): a load-table request then costs one
/// SQLite lookup, and a commit starts from parsed metadata.
/// </summary>
internal sealed class MetadataFiles(IObjectStore warehouse, long cacheCapacityBytes)
{
    private readonly MetadataCache _cache = new(cacheCapacityBytes);

    public string WarehouseUri { get; } = warehouse.Location.ToString().TrimEnd('/');

    /// <summary>The default location of a new table: <c>&lt;warehouse&gt;/&lt;ns levels&gt;/&lt;table&gt;</c>.</summary>
    public string DefaultLocation(Namespace ns, string name) => WarehouseUri + "/" + string.Join('/', ns.Levels) + "/" + name;

    public MetadataCache Cache => _cache;

    public async Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken) =>
        (await ReadFileAsync(location, cancellationToken)).Bytes;

    /// <param name="maxBytes">Refuse (400) a file larger than this: for a file a request names (register), which could be anything.</param>
    public async ValueTask<MetadataFile> ReadFileAsync(string location, CancellationToken cancellationToken, long? maxBytes = null)
    {
        if (_cache.Get(location) is { } cached) return cached;
        byte[] bytes;
        try
        {
            await using var stream = await warehouse.GetAsync(Key(location), cancellationToken: cancellationToken);
            if (stream.Length > maxBytes)
                throw CatalogException.BadRequest($"{location} is {stream.Length} bytes, above the {maxBytes} a table metadata file may have here.");
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            bytes = buffer.ToArray();
        }
        catch (ObjectNotFoundException)
        {
            throw CatalogException.NotFound($"Metadata file {location} does not exist in the warehouse.");
        }
        return _cache.Add(new MetadataFile(location, bytes));
    }

    /// <summary>Writes the next metadata file of a table and returns its location: <c>&lt;table&gt;/metadata/&lt;version&gt;-&lt;uuid&gt;.metadata.json</c>.</summary>
    public async Task<string> WriteAsync(string tableLocation, string? previousLocation, byte[] metadata, CancellationToken cancellationToken) =>
        (await WriteFileAsync(tableLocation, previousLocation, metadata, null, cancellationToken)).Location;

    /// <summary>As <see cref="WriteAsync"/>, keeping the parsed table metadata with the cached file for the next commit.</summary>
    public async Task<MetadataFile> WriteFileAsync(string tableLocation, string? previousLocation, byte[] metadata, TableMetadata? table, CancellationToken cancellationToken)
    {
        var location = $"{tableLocation.TrimEnd('/')}/metadata/{NextVersion(previousLocation):D5}-{Guid.NewGuid()}.metadata.json";
        // The name is fresh and published only by the swap that follows, so the store may write it in place (a local
        // warehouse: one file created under its final name, no temp file, rename nor sidecar). No content type, as
        // Iceberg's own file IO writes them.
        await warehouse.PutNewAsync(Key(location), metadata, cancellationToken);
        return _cache.Add(new MetadataFile(location, metadata, table));
    }

    /// <summary>
    /// Deletes a file that was written for a commit whose swap lost: nothing can reference it, and leaving it would
    /// make every lost race an orphan in the warehouse. Best effort: a file this fails to delete is only an orphan,
    /// and the commit's outcome must not depend on it. Never call it for a swap whose outcome is unknown.
    /// </summary>
    public async Task DeleteUnreferencedAsync(string location)
    {
        _cache.Forget(location);
        try
        {
            // Safe: every caller passes a file it wrote under a fresh name for a swap that did not apply (the store
            // refused it or another writer won), so no table's row, and no metadata file, can name it.
            await warehouse.DeleteAsync(Key(location), CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever the store answered (an I/O error, an S3 error, a timeout), the file is only an orphan.
        }
    }

    /// <summary>
    /// The warehouse key of a location (also spelled <c>file:/path</c> for a local warehouse). A location outside the
    /// warehouse, or whose key is not a plain relative path (<c>..</c>, <c>.</c>, empty segments, control characters,
    /// percent-escapes that decode to any of those) is a 400 naming it:
    /// the catalog reads, writes and deletes only inside its warehouse.
    /// </summary>
    public string Key(string location, string what = "Location")
    {
        var key = Relative(location)
            ?? throw CatalogException.BadRequest($"{what} '{Show(location)}' is outside this catalog's warehouse {WarehouseUri}.");
        if ((KeyProblem(key) ?? KeyProblem(Uri.UnescapeDataString(key))) is { } problem)
            throw CatalogException.BadRequest($"{what} '{Show(location)}' is not a usable location in the warehouse: {problem}.");
        return key;
    }

    public bool InWarehouse(string location) => Relative(location) is not null;

    /// <summary>
    /// A new table location, as the catalog stores and compares it: in the warehouse, spelled as the warehouse is,
    /// without a trailing '/' and without percent-escapes (<c>a%2Fb</c> would be one folder to the catalog and two to a
    /// reader that decodes it). 400 naming it otherwise.
    /// </summary>
    public TableLocation ToTableLocation(string location, string what = "Location")
    {
        var trimmed = location.TrimEnd('/');
        var key = Key(trimmed, what);
        if (!trimmed.StartsWith(WarehouseUri + "/", StringComparison.Ordinal) || key.Contains('%'))
            throw CatalogException.BadRequest($"{what} '{Show(location)}' is not a usable table location: spell it {WarehouseUri}/<folders>, without percent-escapes.");
        return new TableLocation(WarehouseUri, key);
    }

    /// <summary>A location in the form table locations are compared in: as <see cref="TableLocation"/> returns them for
    /// anything in the warehouse (escapes decoded, the warehouse's own spelling), otherwise as it is without a trailing '/'.</summary>
    public string Comparable(string location)
    {
        var trimmed = location.TrimEnd('/');
        return Relative(trimmed) is { } key ? WarehouseUri + "/" + Uri.UnescapeDataString(key) : trimmed;
    }

    private string? Relative(string location)
    {
        var root = WarehouseUri + "/";
        if (location.StartsWith(root, StringComparison.Ordinal)) return location[root.Length..];
        // file:/ and file:/// spell the same local path (Hadoop-based writers use the short form).
        if (root.StartsWith("file:///", StringComparison.Ordinal) && location.StartsWith("file:/" + root["file:///".Length..], StringComparison.Ordinal))
            return location[("file:/".Length + root.Length - "file:///".Length)..];
        return null;
    }

    private static string? KeyProblem(string key)
    {
        try
        {
            ObjectKey.Validate(key);
        }
        catch (InvalidObjectKeyException e)
        {
            return e.Message;
        }
        return null;
    }

    /// <summary>A location as an error message may quote it: control characters escaped.</summary>
    internal static string Show(string value) =>
        value.Any(char.IsControl) ? string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString())) : value;

    private static int NextVersion(string? previousLocation)
    {
        if (previousLocation is null) return 0;
        var file = previousLocation[(previousLocation.LastIndexOf('/') + 1)..];
        var dash = file.IndexOf('-');
        return dash > 0 && int.TryParse(file.AsSpan(0, dash), out var v) ? v + 1 : 0;
    }
}
