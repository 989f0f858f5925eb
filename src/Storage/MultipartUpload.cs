namespace DataPlane.Storage;

/// <summary>
/// An upload in progress. Parts are numbered from 1 and may be uploaded concurrently and out of order. Once completed
/// or aborted it takes no more parts, and completes or aborts once: each store writes only how it keeps its parts.
/// </summary>
public abstract class MultipartUpload : IAsyncDisposable
{
    private int _state; // 0 open, 1 completed or aborted

    public abstract string Key { get; }

    /// <summary>Uploads one part and returns its ETag.</summary>
    public async Task<string> UploadPartAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken = default)
    {
        if (partNumber is < 1 or > 10_000)
            throw new ArgumentOutOfRangeException(nameof(partNumber), $"Part number {partNumber} is outside 1..10000.");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) != 0, this);
        return await UploadPartCoreAsync(partNumber, content, length, cancellationToken);
    }

    /// <summary>Assembles the uploaded parts in part-number order into the object.</summary>
    public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException($"The multipart upload of '{Key}' is already completed or aborted.");
        return await CompleteCoreAsync(cancellationToken);
    }

    /// <summary>Discards the parts; the object never appears.</summary>
    public Task AbortAsync(CancellationToken cancellationToken = default) =>
        Interlocked.Exchange(ref _state, 1) == 0 ? AbortCoreAsync() : Task.CompletedTask;

    public ValueTask DisposeAsync() => new(AbortAsync());

    /// <summary>Called with a part number in 1..10000 while the upload is open.</summary>
    protected abstract Task<string> UploadPartCoreAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken);

    /// <summary>Called once, unless aborted first; <see cref="NoParts"/> when no part was uploaded.</summary>
    protected abstract Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken);

    /// <summary>Called once, unless completed first.</summary>
    protected abstract Task AbortCoreAsync();

    protected InvalidOperationException NoParts() =>
        new($"The multipart upload of '{Key}' has no parts; upload at least one before completing.");
}
