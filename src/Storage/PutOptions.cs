namespace DataPlane.Storage;

/// <summary>Options of a write: content type, user metadata (x-amz-meta-*), and the part size of multipart uploads.</summary>
public sealed record PutOptions
{
    public const long DefaultPartSize = 8L * 1024 * 1024;

    public string? ContentType { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    /// <summary>Bytes per part for multipart uploads; S3 requires at least 5 MiB for every part but the last.</summary>
    public long PartSize { get; init; } = DefaultPartSize;
}
