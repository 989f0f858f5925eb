using System.Text;

namespace DataPlane.Storage;

/// <summary>
/// The rules every backend applies to keys before touching storage. A key is a relative, '/'-separated
/// path that can never leave the store's root: on the local folder a key becomes a file path, so
/// "../", absolute paths, backslashes (a separator on Windows) and NUL would otherwise reach outside it.
/// </summary>
public static class ObjectKey
{
    /// <summary>S3's limit on a key's UTF-8 length.</summary>
    public const int MaxUtf8Length = 1024;

    /// <summary>Returns the key when valid; otherwise throws <see cref="InvalidObjectKeyException"/> naming it.</summary>
    public static string Validate(string? key)
    {
        if (string.IsNullOrEmpty(key))
            throw new InvalidObjectKeyException(key ?? "", "a key must not be empty");
        CheckCharacters(key, "key");
        if (key.EndsWith('/'))
            throw new InvalidObjectKeyException(key, "a key must not end with '/' (that names a folder, not an object)");
        CheckSegments(key, key.Split('/'));
        return key;
    }

    /// <summary>Validates a listing prefix: empty is the whole store; it may end with '/' or stop mid-segment.</summary>
    public static string ValidatePrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
            return "";
        CheckCharacters(prefix, "prefix");
        var segments = prefix.Split('/');
        // The last segment of a prefix may be empty ("a/") or partial ("a/da"); only complete segments are checked.
        CheckSegments(prefix, segments.AsSpan(0, segments.Length - 1).ToArray());
        if (segments[^1] is "." or "..")
            throw new InvalidObjectKeyException(prefix, "a '..' or '.' segment would leave the store's root; use a path relative to the root");
        return prefix;
    }

    private static void CheckCharacters(string key, string what)
    {
        if (key.Contains('\0'))
            throw new InvalidObjectKeyException(key, $"a {what} must not contain NUL");
        // S3 would take them, but they cannot travel in a listing's XML 1.0 and make file names nobody can type.
        if (key.Any(char.IsControl))
            throw new InvalidObjectKeyException(key, $"a {what} must not contain control characters (U+0000..U+001F, U+007F..U+009F)");
        if (key.Contains('\\'))
            throw new InvalidObjectKeyException(key, $"a {what} must not contain '\\'; separate segments with '/'");
        if (key[0] == '/')
            throw new InvalidObjectKeyException(key, $"a {what} must be relative to the store's root, without a leading '/'");
        if (Encoding.UTF8.GetByteCount(key) > MaxUtf8Length)
            throw new InvalidObjectKeyException(key, $"a {what} must be at most {MaxUtf8Length} bytes in UTF-8");
    }

    private static void CheckSegments(string key, string[] segments)
    {
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0)
                throw new InvalidObjectKeyException(key, "a key must not contain an empty segment ('//')");
            if (segment is "." or "..")
                throw new InvalidObjectKeyException(key, "a '..' or '.' segment would leave the store's root; use a path relative to the root");
            if (i == 0 && segment.Length == 2 && segment[1] == ':' && char.IsAsciiLetter(segment[0]))
                throw new InvalidObjectKeyException(key, "a drive letter makes an absolute path; use a path relative to the root");
        }
    }
}
