using DataPlane.Storage;

namespace DataPlane.Iceberg.Operations;

/// <summary>Maps between the full locations written in metadata (<c>file:///wh/db/t/...</c>, <c>s3://b/wh/...</c>)
/// and keys of the object store that holds the table.</summary>
public sealed class TableIO(IObjectStore store)
{
    private readonly string _root = store.Location.ToString().TrimEnd('/') + "/";

    public IObjectStore Store => store;

    public string LocationOf(string key) => _root + key;

    public string KeyOf(string location)
    {
        if (location.StartsWith(_root, StringComparison.Ordinal)) return Uri.UnescapeDataString(location[_root.Length..]);
        // file:/ and file:/// spell the same local path.
        var alt = _root.StartsWith("file:///", StringComparison.Ordinal) ? "file:/" + _root["file:///".Length..] : null;
        if (alt is not null && location.StartsWith(alt, StringComparison.Ordinal)) return Uri.UnescapeDataString(location[alt.Length..]);
        throw new ArgumentException($"Location '{location}' is outside the table's store {_root}.");
    }

    public async Task<MemoryStream> ReadAsync(string location, CancellationToken ct)
    {
        await using var s = await store.GetAsync(KeyOf(location), cancellationToken: ct);
        var ms = new MemoryStream();
        await s.CopyToAsync(ms, ct);
        ms.Position = 0;
        return ms;
    }

    public async Task WriteAsync(string key, Action<Stream> write, CancellationToken ct)
    {
        var ms = new MemoryStream();
        write(ms);
        ms.Position = 0;
        await store.PutAsync(key, ms, cancellationToken: ct);
    }
}
