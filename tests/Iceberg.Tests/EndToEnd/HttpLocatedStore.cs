using DataPlane.Storage;

namespace DataPlane.Iceberg.Tests.EndToEnd;

/// <summary>
/// The local folder store, located at the HTTP address where <see cref="HttpFileServer"/> serves the same folder, so
/// the table's metadata records http:// locations that an HTTP-only reader can follow. Every call is the real store's.
/// </summary>
internal sealed class HttpLocatedStore(IObjectStore inner, Uri location) : IObjectStore
{
    public Uri Location => location;
    public bool SupportsPutIfAbsent => inner.SupportsPutIfAbsent;
    public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, options, cancellationToken);
    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutIfAbsentAsync(key, content, options, cancellationToken);
    public Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, range, cancellationToken);
    public Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default) => inner.GetPartLayoutAsync(key, cancellationToken);
    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);
    public Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default) => inner.ListPageAsync(prefix, startAfter, maxKeys, delimiter, cancellationToken);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, startAfter, cancellationToken);
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.StartMultipartUploadAsync(key, options, cancellationToken);
    public Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.OpenWriteAsync(key, options, cancellationToken);
    public void Dispose() => inner.Dispose();
}
