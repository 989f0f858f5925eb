namespace DataPlane.Storage;

/// <summary>
/// User metadata travels as x-amz-meta-* headers on S3, so names are case-insensitive and values are
/// HTTP header text. Both backends apply the same rules and lower-case the names, so that code which
/// works on the local folder also works on S3.
/// </summary>
internal static class UserMetadata
{
    public static Dictionary<string, string>? Normalize(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
            return null;
        var normalized = new Dictionary<string, string>(metadata.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in metadata)
        {
            if (string.IsNullOrEmpty(name) || !name.All(IsTokenChar))
                throw new ArgumentException($"Invalid metadata name '{name}': use ASCII letters, digits and '-', '_', '.'.", nameof(metadata));
            if (value is null || !value.All(c => c is >= ' ' and <= '~'))
                throw new ArgumentException($"Invalid value for metadata '{name}': only printable ASCII can travel in an S3 header.", nameof(metadata));
            if (!normalized.TryAdd(name.ToLowerInvariant(), value))
                throw new ArgumentException($"Metadata name '{name}' is given twice (names are case-insensitive).", nameof(metadata));
        }
        return normalized;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
