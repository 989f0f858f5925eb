using DataPlane.Iceberg.Catalogs;
namespace DataPlane.Catalog.Store;

/// <summary>
/// Namespace levels and table and view names: each becomes one folder of a default table location
/// (<c>&lt;warehouse&gt;/db/events</c>) and one segment of a URL path, so each must be a plain, reachable segment.
/// </summary>
internal static class PathSegment
{
    /// <summary>Returns <paramref name="value"/> when usable; otherwise a 400 naming it and why.</summary>
    public static string Check(string value, string what)
    {
        var problem =
            value.Length == 0 ? "it is empty"
            : value is "." or ".." ? "'.' and '..' name folders relative to others"
            : value.Contains('/') ? "it contains '/'"
            : value.Contains('\\') ? "it contains '\\'"
            : value.Any(char.IsControl) ? "it contains a control character (U+0000..U+001F, U+007F..U+009F)"
            : null;
        return problem is null ? value : throw CatalogException.BadRequest($"Invalid {what} '{Commits.MetadataFiles.Show(value)}': {problem}.");
    }
}
