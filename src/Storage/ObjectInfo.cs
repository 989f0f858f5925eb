namespace DataPlane.Storage;

/// <summary>What a head, a get or a listing says of one object. Listings may leave <see cref="ContentType"/> and
/// <see cref="Metadata"/> empty. <see cref="StorageClass"/> is S3's (<c>STANDARD</c>, <c>GLACIER</c>, ...); both
/// backends say <c>STANDARD</c> when the object was written without one; null only where a store does not tell.</summary>
public sealed record ObjectInfo(
    string Key,
    long Size,
    string ETag,
    DateTimeOffset LastModified,
    string? ContentType = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? StorageClass = null)
{
    public const string StandardStorageClass = "STANDARD";
}
