using System.Collections.Concurrent;
using DataPlane.Storage;

namespace DataPlane.Iceberg.Tests.Scanning;

/// <summary>A real store that records the keys it is asked to read, so tests can tell which files a scan opened.</summary>
internal sealed class CountingStore(IObjectStore inner) : IObjectStore
{
    public ConcurrentQueue<string> Reads { get; } = new();

    /// <summary>Manifests read so far (Avro files under metadata/ other than manifest lists, which start with snap-).</summary>
    public int ManifestReads => Reads.Count(k => k.Contains("/metadata/", StringComparison.Ordinal) && k.EndsWith(".avro", StringComparison.Ordinal)
        && !k[(k.LastIndexOf('/') + 1)..].StartsWith("snap-", StringComparison.Ordinal));

    public Uri Location => inner.Location;
    public bool SupportsPutIfAbsent => inner.SupportsPutIfAbsent;
    public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, options, cancellationToken);
    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutIfAbsentAsync(key, content, options, cancellationToken);

    public Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        Reads.Enqueue(key);
        return inner.GetAsync(key, range, cancellationToken);
    }

    public Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default) => inner.GetPartLayoutAsync(key, cancellationToken);

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);
    public Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default) => inner.ListPageAsync(prefix, startAfter, maxKeys, delimiter, cancellationToken);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, startAfter, cancellationToken);
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.StartMultipartUploadAsync(key, options, cancellationToken);
    public Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.OpenWriteAsync(key, options, cancellationToken);
    public void Dispose() => inner.Dispose();
}
