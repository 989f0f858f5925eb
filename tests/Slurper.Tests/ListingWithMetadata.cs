using DataPlane.Storage;

namespace DataPlane.Slurper.Tests;

/// <summary>A store whose listings carry each object's metadata, as a backend reporting storage classes would.</summary>
internal sealed class ListingWithMetadata(InMemoryObjectStore inner) : IObjectStore
{
    public Uri Location => inner.Location;
    public bool SupportsPutIfAbsent => false;

    public async Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default)
    {
        var page = await inner.ListPageAsync(prefix, startAfter, maxKeys, delimiter, cancellationToken);
        return page with { Objects = page.Objects.Select(o => o with { Metadata = inner.Objects[o.Key].Metadata }).ToList() };
    }

    public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, options, cancellationToken);
    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.PutIfAbsentAsync(key, content, options, cancellationToken);
    public Task<Stream> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, range, cancellationToken);
    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, startAfter, cancellationToken);
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.StartMultipartUploadAsync(key, options, cancellationToken);
    public Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.OpenWriteAsync(key, options, cancellationToken);
    public void Dispose() { }
}
