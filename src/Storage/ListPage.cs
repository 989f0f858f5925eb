namespace DataPlane.Storage;

/// <summary>One page of a listing. <see cref="NextStartAfter"/> is the key to pass as start-after for the next page, null on the last page.</summary>
public sealed record ListPage(
    IReadOnlyList<ObjectInfo> Objects,
    IReadOnlyList<string> CommonPrefixes,
    string? NextStartAfter)
{
    public bool IsTruncated => NextStartAfter is not null;

    /// <summary>Entries in this page's key range that are not objects (see <see cref="SkippedEntry"/>).</summary>
    public IReadOnlyList<SkippedEntry> Skipped { get; init; } = [];
}
