namespace DataPlane.Storage.S3;

/// <summary>A parsed <c>s3://bucket/prefix</c>: the bucket and the key prefix ("" or ending in '/') every key is stored under.</summary>
internal sealed record S3Location(string Bucket, string Prefix)
{
    public Uri Uri => new($"s3://{Bucket}/{Prefix}");

    public static S3Location Parse(string location)
    {
        if (!location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{location}' is not an S3 location; use s3://bucket/prefix.", nameof(location));
        var rest = location["s3://".Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (!IsBucketName(bucket))
            throw new ArgumentException(
                $"Invalid bucket '{bucket}' in '{location}': a bucket name is 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit.",
                nameof(location));
        if (prefix.Length > 0)
        {
            if (!prefix.EndsWith('/'))
                prefix += "/";
            try
            {
                ObjectKey.Validate(prefix[..^1]);
            }
            catch (InvalidObjectKeyException e)
            {
                throw new ArgumentException($"Invalid prefix in '{location}': {e.Message}", nameof(location), e);
            }
        }
        return new S3Location(bucket, prefix);
    }

    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]);
}
