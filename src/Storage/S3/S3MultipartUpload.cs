using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace DataPlane.Storage.S3;

/// <summary>An S3 multipart upload; parts go straight from the caller's streams to the server, concurrently if the caller wishes.</summary>
internal sealed class S3MultipartUpload(S3ObjectStore store, S3Rest rest, string key, string fullKey, string uploadId) : MultipartUpload
{
    private readonly ConcurrentDictionary<int, string> _parts = new();

    public override string Key => key;

    protected override async Task<string> UploadPartCoreAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken)
    {
        var body = new StreamContent(new ReadWindowStream(content, length, leaveOpen: true));
        body.Headers.ContentLength = length;
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var etag = await rest.UploadPartAsync(fullKey, uploadId, partNumber, body, cancellationToken);
        _parts[partNumber] = etag;
        return etag;
    }

    protected override async Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken)
    {
        if (_parts.IsEmpty)
        {
            await rest.AbortMultipartUploadAsync(fullKey, uploadId);
            throw NoParts();
        }
        await rest.CompleteMultipartUploadAsync(fullKey, uploadId, _parts.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)), cancellationToken);
        return await store.HeadAsync(key, cancellationToken)
            ?? throw new IOException($"S3 completed the multipart upload of '{key}' in {store.Location}, but the object is not there.");
    }

    protected override Task AbortCoreAsync() => rest.AbortMultipartUploadAsync(fullKey, uploadId);
}
