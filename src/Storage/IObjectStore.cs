namespace DataPlane.Storage;

/// <summary>
/// A flat key space of immutable objects: a local folder (the embedded default) or a bucket prefix
/// on an S3-compatible server. Keys are relative, '/'-separated and validated by <see cref="ObjectKey"/>.
/// Both backends pass the same contract tests (tests/Storage.Tests).
/// </summary>
public interface IObjectStore : IDisposable
{
    /// <summary>Where this store's root is: <c>file:///abs/path/</c> or <c>s3://bucket/prefix/</c>.</summary>
    Uri Location { get; }

    /// <summary>Writes the whole object, replacing any previous one. Atomic on the local folder (write, then rename).</summary>
    Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the object only when the key is free; a second writer gets <see cref="ObjectAlreadyExistsException"/>.
    /// Throws <see cref="NotSupportedException"/> where the backend cannot guarantee it (see <see cref="SupportsPutIfAbsent"/>).
    /// </summary>
    Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a small object under a key that is new, never reused, and that nobody reads before this returns (an
    /// Iceberg metadata file, whose name a catalog publishes only after the write): durable on return, with nothing
    /// else to say about it (no content type, no user metadata). Since no reader can be looking, a backend may write
    /// in place rather than publish atomically; the local folder does (one file created under its final name, no
    /// temp file, rename or sidecar) and refuses a key that exists with <see cref="ObjectAlreadyExistsException"/>.
    /// A crash before it returns may leave a partial object under the key, which nothing references.
    /// </summary>
    Task PutNewAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        PutAsync(key, System.Runtime.InteropServices.MemoryMarshal.TryGetArray(content, out var array)
                ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
                : new MemoryStream(content.ToArray(), writable: false),
            new PutOptions { ContentLength = content.Length }, cancellationToken);

    /// <summary>True when <see cref="PutIfAbsentAsync"/> is a real compare-and-set on this backend.</summary>
    bool SupportsPutIfAbsent { get; }

    /// <summary>Opens the object (or a byte range of it) as a stream read from the backend as it is consumed, with the
    /// object's size, ETag, last-modified, content type, user metadata and storage class from the same response
    /// (<see cref="ObjectBody.Object"/>), so no head is needed. Throws <see cref="ObjectNotFoundException"/>.</summary>
    Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default);

    /// <summary>Size, ETag, last-modified, content type, user metadata and storage class; null when the key is absent.</summary>
    Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The part layout of an object written as a multipart upload (S3: a head of part 1, which gives the part
    /// count and part 1's size); null for an object written in one piece, or where the server does not tell (s3rver).
    /// Null when the key is absent too.</summary>
    Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>One page of a listing in key order (with each object's storage class, so archived objects can be told apart without a head): keys under <paramref name="prefix"/> strictly after <paramref name="startAfter"/>.
    /// With a <paramref name="delimiter"/>, keys that contain it past the prefix are rolled up into <see cref="ListPage.CommonPrefixes"/>.</summary>
    Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default);

    /// <summary>Every key under the prefix in key order, fetched page by page.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; deleting an absent key is not an error (as on S3).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Starts a multipart upload whose parts may be sent in parallel; the object appears on <see cref="MultipartUpload.CompleteAsync"/>.</summary>
    Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>A write stream for an object of unknown length (Parquet writers, copies): it buffers a part at a time and
    /// switches to multipart past <see cref="PutOptions.PartSize"/>. The object appears only on
    /// <see cref="ObjectWriteStream.CompleteAsync"/>; disposing without completing abandons it, so a failed writer
    /// never leaves a partial object behind.</summary>
    Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default);
}
