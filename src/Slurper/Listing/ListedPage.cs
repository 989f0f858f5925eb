using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>
/// What one list request found in its range: objects, and entries that are none to copy (a local folder's symbolic
/// links; a prefix no key under which can be named, such as "a/../"), each with why.
/// </summary>
internal sealed record ListedPage(IReadOnlyList<ObjectInfo> Objects, IReadOnlyList<SkippedEntry> Skipped);
