namespace DataPlane.Storage;

/// <summary>Storage class names travel as an HTTP header value and are S3's upper-case words.</summary>
internal static class StorageClassName
{
    public static string? Validate(string? storageClass)
    {
        if (storageClass is null)
            return null;
        if (storageClass.Length == 0 || !storageClass.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
            throw new ArgumentException(
                $"Invalid storage class '{storageClass}': use an S3 storage class name such as STANDARD, STANDARD_IA or GLACIER.", nameof(storageClass));
        return storageClass;
    }
}
