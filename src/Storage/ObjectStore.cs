using DataPlane.Storage.Local;

namespace DataPlane.Storage;

/// <summary>Opens a store from a location: a plain path or <c>file:///...</c> for a local folder, <c>s3://bucket/prefix</c> for S3.</summary>
public static class ObjectStore
{
    public static IObjectStore Open(string location, S3Options? s3 = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"S3 locations ('{location}') arrive with the S3 backend.");
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
