using System.Globalization;
using DataPlane.Iceberg.Manifests;

namespace DataPlane.Iceberg.Operations;

/// <summary>The standard snapshot summary keys (spec Appendix F) computed from what an operation added and removed,
/// with totals carried forward from the parent snapshot.</summary>
internal static class SnapshotSummary
{
    public static Dictionary<string, string> Build(string operation, IReadOnlyCollection<DataFile> added, IReadOnlyCollection<DataFile> deleted,
        IReadOnlyDictionary<string, string>? parentSummary, IReadOnlyDictionary<string, string>? extra)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal) { ["operation"] = operation };
        var addedDeletes = added.Where(f => f.Content != FileContent.Data).ToList();
        added = added.Where(f => f.Content == FileContent.Data).ToList();
        var removedDeletes = deleted.Where(f => f.Content != FileContent.Data).ToList();
        deleted = deleted.Where(f => f.Content == FileContent.Data).ToList();
        void Put(string key, long value, bool always = false)
        {
            if (always || value != 0) s[key] = value.ToString(CultureInfo.InvariantCulture);
        }
        Put("added-data-files", added.Count);
        Put("deleted-data-files", deleted.Count);
        Put("added-records", added.Sum(f => f.RecordCount));
        Put("deleted-records", deleted.Sum(f => f.RecordCount));
        Put("added-files-size", added.Sum(f => f.FileSizeInBytes));
        Put("removed-files-size", deleted.Sum(f => f.FileSizeInBytes));
        var changed = added.Concat(deleted).Concat(addedDeletes).Concat(removedDeletes).Select(f => (f.SpecId, f.Partition)).Distinct().Count();
        Put("changed-partition-count", changed, always: true);
        long Total(string key) => parentSummary is not null && parentSummary.TryGetValue(key, out var v) && long.TryParse(v, CultureInfo.InvariantCulture, out var n) ? n : 0;
        Put("total-records", Total("total-records") + added.Sum(f => f.RecordCount) - deleted.Sum(f => f.RecordCount), always: true);
        Put("total-files-size", Total("total-files-size") + added.Sum(f => f.FileSizeInBytes) - deleted.Sum(f => f.FileSizeInBytes), always: true);
        Put("total-data-files", Total("total-data-files") + added.Count - deleted.Count, always: true);
        long positionDeletes = addedDeletes.Where(f => f.Content == FileContent.PositionDeletes).Sum(f => f.RecordCount);
        long equalityDeletes = addedDeletes.Where(f => f.Content == FileContent.EqualityDeletes).Sum(f => f.RecordCount);
        Put("added-delete-files", addedDeletes.Count);
        Put("added-position-delete-files", addedDeletes.Count(f => f.Content == FileContent.PositionDeletes));
        Put("added-equality-delete-files", addedDeletes.Count(f => f.Content == FileContent.EqualityDeletes));
        Put("added-position-deletes", positionDeletes);
        Put("added-equality-deletes", equalityDeletes);
        long removedPositionDeletes = removedDeletes.Where(f => f.Content == FileContent.PositionDeletes).Sum(f => f.RecordCount);
        long removedEqualityDeletes = removedDeletes.Where(f => f.Content == FileContent.EqualityDeletes).Sum(f => f.RecordCount);
        Put("removed-delete-files", removedDeletes.Count);
        Put("removed-position-delete-files", removedDeletes.Count(f => f.Content == FileContent.PositionDeletes));
        Put("removed-equality-delete-files", removedDeletes.Count(f => f.Content == FileContent.EqualityDeletes));
        Put("removed-position-deletes", removedPositionDeletes);
        Put("removed-equality-deletes", removedEqualityDeletes);
        Put("total-delete-files", Total("total-delete-files") + addedDeletes.Count - removedDeletes.Count, always: true);
        Put("total-position-deletes", Total("total-position-deletes") + positionDeletes - removedPositionDeletes, always: true);
        Put("total-equality-deletes", Total("total-equality-deletes") + equalityDeletes - removedEqualityDeletes, always: true);
        if (extra is not null)
            foreach (var (k, v) in extra) s[k] = v;
        return s;
    }
}
