namespace DataPlane.Storage;

/// <summary>Options of a write: content type, user metadata (x-amz-meta-*), storage class, and the part size of multipart uploads.</summary>
public sealed record PutOptions
{
    public const long DefaultPartSize = 8L * 1024 * 1024;

    public string? ContentType { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    /// <summary>S3's x-amz-storage-class (e.g. <c>STANDARD_IA</c>, <c>GLACIER</c>); null leaves the backend's default, <c>STANDARD</c>.</summary>
    public string? StorageClass { get; init; }
    /// <summary>The exact length of the content, when known (a copy knows it from the source): the object is then streamed
    /// as it is read, in one request up to S3's 5 GiB single-put limit, instead of being buffered a part at a time.
    /// Content shorter or longer than this fails the write with <see cref="ArgumentException"/>.</summary>
    public long? ContentLength { get; init; }
    /// <summary>Bytes per part for multipart uploads; S3 requires at least 5 MiB for every part but the last.</summary>
    public long PartSize { get; init; } = DefaultPartSize;
}
