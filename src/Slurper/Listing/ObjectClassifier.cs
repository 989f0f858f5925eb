using DataPlane.Slurper.Journal;
using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>Decides, from the listing alone, whether an object is copied, left out by the globs, or skipped and reported.</summary>
internal sealed class ObjectClassifier(SlurpOptions options)
{
    readonly KeyFilter filter = new(options.Include, options.Exclude);
    readonly HashSet<string> archiveClasses = new(options.ArchiveStorageClasses, StringComparer.OrdinalIgnoreCase);

    /// <summary>A page's objects to copy, and what is skipped with the state and reason it is journaled with.</summary>
    public (List<WorkItem> ToCopy, List<(WorkItem Item, ObjectState State, string? Reason)> Skipped) Sort(ListedPage page)
    {
        var toCopy = new List<WorkItem>(page.Objects.Count);
        var skipped = new List<(WorkItem, ObjectState, string?)>();
        foreach (var info in page.Objects)
        {
            if (Classify(info) is not { } verdict) continue;
            var item = new WorkItem(info.Key, info.Size, info.ETag);
            if (verdict.State == ObjectState.Pending) toCopy.Add(item);
            else skipped.Add((item, verdict.State, verdict.Reason));
        }
        foreach (var entry in page.Skipped)
        {
            if (!filter.Accepts(entry.Key)) continue;
            // A prefix (or key) nothing can be read under is an invalid key; an entry the store passed over is a link.
            var state = InvalidReason(entry.Key) is null ? ObjectState.SkippedLink : ObjectState.SkippedInvalidKey;
            skipped.Add((new WorkItem(entry.Key, 0, ""), state, entry.Reason));
        }
        return (toCopy, skipped);
    }

    /// <returns>Null when the globs leave the object out; otherwise the state it enters the journal in, and why when skipped.</returns>
    public (ObjectState State, string? Reason)? Classify(ObjectInfo info)
    {
        if (!filter.Accepts(info.Key)) return null;
        // No store would take it back (a '..' segment, a control character...): one attempt would fail like the next.
        if (InvalidReason(info.Key) is { } invalid) return (ObjectState.SkippedInvalidKey, invalid);
        if (info.StorageClass is { } storageClass && archiveClasses.Contains(storageClass)) return (ObjectState.SkippedArchive, null);
        if (options.MaxObjectSize is { } cap && info.Size > cap) return (ObjectState.SkippedTooLarge, null);
        return (ObjectState.Pending, null);
    }

    static string? InvalidReason(string key)
    {
        try
        {
            if (key.EndsWith('/')) ObjectKey.ValidatePrefix(key);
            else ObjectKey.Validate(key);
            return null;
        }
        catch (InvalidObjectKeyException e)
        {
            return e.Message;
        }
    }
}
