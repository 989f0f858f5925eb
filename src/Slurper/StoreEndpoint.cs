using DataPlane.Storage;

namespace DataPlane.Slurper;

/// <summary>One side of a migration: where the objects are (<c>s3://bucket/prefix</c> or a local folder) and, for S3, how to reach it.</summary>
public sealed record StoreEndpoint(string Location, S3Options? S3)
{
    public bool IsS3 => Location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    public IObjectStore Open() => ObjectStore.Open(Location, IsS3 ? S3 ?? new S3Options() : null);

    /// <summary>The location with the endpoint, never the credentials: safe to print and to store in a journal.</summary>
    public string Describe() => IsS3 && S3?.Endpoint is { } endpoint ? $"{Location} at {endpoint}" : Location;
}
