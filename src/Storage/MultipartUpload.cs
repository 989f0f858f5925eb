namespace DataPlane.Storage;

/// <summary>An upload in progress. Parts are numbered from 1 and may be uploaded concurrently and out of order.</summary>
public abstract class MultipartUpload : IAsyncDisposable
{
    public abstract string Key { get; }

    /// <summary>Uploads one part and returns its ETag.</summary>
    public abstract Task<string> UploadPartAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken = default);

    /// <summary>Assembles the uploaded parts in part-number order into the object.</summary>
    public abstract Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>Discards the parts; the object never appears.</summary>
    public abstract Task AbortAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
