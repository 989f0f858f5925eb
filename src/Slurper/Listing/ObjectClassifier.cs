using DataPlane.Slurper.Journal;
using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>Decides, from the listing alone, whether an object is copied, left out by the globs, or skipped and reported.</summary>
internal sealed class ObjectClassifier(SlurpOptions options)
{
    readonly KeyFilter filter = new(options.Include, options.Exclude);
    readonly HashSet<string> archiveClasses = new(options.ArchiveStorageClasses, StringComparer.OrdinalIgnoreCase);

    /// <returns>Null when the globs leave the object out; otherwise the state it enters the journal in.</returns>
    public ObjectState? Classify(ObjectInfo info)
    {
        if (!filter.Accepts(info.Key)) return null;
        if (info.StorageClass is { } storageClass && archiveClasses.Contains(storageClass)) return ObjectState.SkippedArchive;
        if (options.MaxObjectSize is { } cap && info.Size > cap) return ObjectState.SkippedTooLarge;
        return ObjectState.Pending;
    }
}
