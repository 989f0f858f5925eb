using DataPlane.Storage.Local;
using DataPlane.Storage.S3;

namespace DataPlane.Storage;

/// <summary>Opens a store from a location: a plain path or <c>file:///...</c> for a local folder, <c>s3://bucket/prefix</c> for S3.</summary>
public static class ObjectStore
{
    public static IObjectStore Open(string location, S3Options? s3 = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var parsed = S3Location.Parse(location);
            return new S3ObjectStore(parsed, s3 ?? throw new ArgumentException(
                $"Cannot open '{location}' without S3Options: give the endpoint (null means AWS) and credentials.", nameof(s3)));
        }
        if (location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || !uri.IsFile || !string.IsNullOrEmpty(uri.Host) && uri.Host != "localhost")
                throw new ArgumentException($"Cannot open '{location}': a file location is file:///absolute/path (no host).", nameof(location));
            return new LocalFolderStore(uri.LocalPath);
        }
        if (location.Contains("://", StringComparison.Ordinal))
            throw new ArgumentException(
                $"Cannot open '{location}': the scheme is not supported. Use a folder path, file:///absolute/path or s3://bucket/prefix.",
                nameof(location));
        return new LocalFolderStore(location);
    }
}
