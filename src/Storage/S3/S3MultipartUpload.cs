using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace DataPlane.Storage.S3;

/// <summary>An S3 multipart upload; parts go straight from the caller's streams to the server, concurrently if the caller wishes.</summary>
internal sealed class S3MultipartUpload(S3ObjectStore store, S3Rest rest, string key, string fullKey, string uploadId) : MultipartUpload
{
    private readonly ConcurrentDictionary<int, string> _parts = new();
    private int _state; // 0 open, 1 completed or aborted

    public override string Key => key;

    public override async Task<string> UploadPartAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken = default)
    {
        if (partNumber is < 1 or > 10_000)
            throw new ArgumentOutOfRangeException(nameof(partNumber), $"Part number {partNumber} is outside 1..10000.");
        ObjectDisposedException.ThrowIf(_state != 0, this);
        var body = new StreamContent(new ReadWindowStream(content, length, leaveOpen: true));
        body.Headers.ContentLength = length;
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var etag = await rest.UploadPartAsync(fullKey, uploadId, partNumber, body, cancellationToken).ConfigureAwait(false);
        _parts[partNumber] = etag;
        return etag;
    }

    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException($"The multipart upload of '{key}' is already completed or aborted.");
        if (_parts.IsEmpty)
        {
            await rest.AbortMultipartUploadAsync(fullKey, uploadId).ConfigureAwait(false);
            throw new InvalidOperationException($"The multipart upload of '{key}' has no parts; upload at least one before completing.");
        }
        await rest.CompleteMultipartUploadAsync(fullKey, uploadId, _parts.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)), cancellationToken)
            .ConfigureAwait(false);
        return await store.HeadAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new IOException($"S3 completed the multipart upload of '{key}' in {store.Location}, but the object is not there.");
    }

    public override async Task AbortAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 1) == 0)
            await rest.AbortMultipartUploadAsync(fullKey, uploadId).ConfigureAwait(false);
    }

    public override ValueTask DisposeAsync() => new(AbortAsync());
}
