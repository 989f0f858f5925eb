namespace DataPlane.Storage;

/// <summary>What a head or a listing says of one object. Listings may leave <see cref="ContentType"/> and <see cref="Metadata"/> empty.</summary>
public sealed record ObjectInfo(
    string Key,
    long Size,
    string ETag,
    DateTimeOffset LastModified,
    string? ContentType = null,
    IReadOnlyDictionary<string, string>? Metadata = null);
