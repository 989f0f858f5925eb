using System.Buffers;
using System.Net.Http.Headers;

namespace DataPlane.Storage.S3;

/// <summary>
/// Buffers one part at a time. An object that fits in one part is a single PUT on completion; past that, a multipart
/// upload starts and full parts are sent while the next one fills, at most <see cref="PartsInFlight"/> at once, so memory
/// stays under (<see cref="PartsInFlight"/> + 1) x PartSize whatever the object's size. Abandoning aborts the upload.
/// </summary>
internal sealed class S3WriteStream(S3ObjectStore store, S3Rest rest, string key, string fullKey, PutOptions? options,
    Dictionary<string, string>? metadata, int partSize) : ObjectWriteStream
{
    public const int PartsInFlight = 2;

    private readonly SemaphoreSlim _slots = new(PartsInFlight);
    private readonly List<Task<(int PartNumber, string ETag)>> _parts = [];
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(partSize, 1 << 20));
    private int _filled;
    private string? _uploadId;
    private bool _done;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer);
            buffer = buffer[n..];
            if (_filled == partSize)
                SendPartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer.Span);
            buffer = buffer[n..];
            if (_filled == partSize)
                await SendPartAsync(cancellationToken);
        }
    }

    public override void Flush() { }

    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        try
        {
            if (_uploadId is null)
                return await store.PutSingleAsync(key, fullKey, _buffer.AsMemory(0, _filled), options, metadata, cancellationToken);
            if (_filled > 0)
                await SendPartAsync(cancellationToken);
            var parts = await Task.WhenAll(_parts);
            await rest.CompleteMultipartUploadAsync(fullKey, _uploadId, parts.Select(p => (p.PartNumber, p.ETag)), cancellationToken);
            return await store.HeadAsync(key, cancellationToken)
                ?? throw new IOException($"S3 completed the multipart upload of '{key}' in {store.Location}, but the object is not there.");
        }
        catch
        {
            await AbandonAsync();
            throw;
        }
        finally
        {
            ReturnBuffer();
        }
    }

    private int Append(ReadOnlySpan<byte> source)
    {
        if (_buffer.Length < partSize && _filled + source.Length > _buffer.Length)
            Grow(Math.Min(partSize, Math.Max(_buffer.Length * 2, _filled + source.Length)));
        var n = Math.Min(source.Length, partSize - _filled);
        source[..n].CopyTo(_buffer.AsSpan(_filled));
        _filled += n;
        return n;
    }

    // Small objects never hold a whole part's worth of memory: the buffer grows up to the part size.
    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _filled).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private async Task SendPartAsync(CancellationToken cancellationToken)
    {
        // A part that failed in the background fails the write that follows, not just the completion.
        if (_parts.FirstOrDefault(p => p.IsFaulted) is { } failed)
            await failed;
        if (_parts.Count == 10_000)
            throw new IOException($"'{key}' needs more than 10,000 parts of {partSize} bytes; raise PutOptions.PartSize.");
        _uploadId ??= await rest.CreateMultipartUploadAsync(fullKey, options?.ContentType, metadata, options?.StorageClass, cancellationToken);
        await _slots.WaitAsync(cancellationToken);
        var part = _buffer;
        var length = _filled;
        _buffer = ArrayPool<byte>.Shared.Rent(partSize);
        _filled = 0;
        _parts.Add(UploadAsync(_parts.Count + 1, part, length, _uploadId, cancellationToken));
    }

    private async Task<(int, string)> UploadAsync(int partNumber, byte[] part, int length, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            var content = new ByteArrayContent(part, 0, length);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return (partNumber, await rest.UploadPartAsync(fullKey, uploadId, partNumber, content, cancellationToken));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(part);
            _slots.Release();
        }
    }

    private async Task AbandonAsync()
    {
        try { await Task.WhenAll(_parts); } catch (Exception) { /* the upload is being dropped */ }
        if (_uploadId is not null)
            await rest.AbortMultipartUploadAsync(fullKey, _uploadId);
    }

    private void ReturnBuffer()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_done)
        {
            _done = true;
            AbandonAsync().GetAwaiter().GetResult();
            ReturnBuffer();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_done)
        {
            _done = true;
            await AbandonAsync();
            ReturnBuffer();
        }
        await base.DisposeAsync();
    }
}
