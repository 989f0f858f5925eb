namespace DataPlane.Storage;

/// <summary>Listing rules both backends share, so that pages look the same on the local folder and on S3.</summary>
internal static class ListPaging
{
    /// <summary>S3 returns at most 1,000 entries (objects plus common prefixes) per page.</summary>
    public const int MaxKeysPerPage = 1000;

    public static int CheckMaxKeys(int maxKeys) => maxKeys >= 1
        ? Math.Min(maxKeys, MaxKeysPerPage)
        : throw new ArgumentOutOfRangeException(nameof(maxKeys), $"maxKeys must be at least 1 (got {maxKeys}); pages hold up to {MaxKeysPerPage}.");

    /// <summary>
    /// A page that ends on a common prefix hands that prefix on as start-after; the next page must then skip every
    /// key rolled up into it, not just the keys equal to it. Returns the prefix to skip, or null.
    /// </summary>
    public static string? RolledUpStartAfter(string prefix, string? startAfter, string? delimiter)
    {
        if (string.IsNullOrEmpty(delimiter) || startAfter is null || !startAfter.StartsWith(prefix, StringComparison.Ordinal))
            return null;
        var at = startAfter.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
        return at >= 0 && at + delimiter.Length == startAfter.Length ? startAfter : null;
    }

    /// <summary>Every object under the prefix, page after page.</summary>
    public static async IAsyncEnumerable<ObjectInfo> All(IObjectStore store, string prefix, string? startAfter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = startAfter;
        do
        {
            var page = await store.ListPageAsync(prefix, after, MaxKeysPerPage, null, cancellationToken);
            foreach (var o in page.Objects)
                yield return o;
            after = page.NextStartAfter;
        } while (after is not null);
    }
}
