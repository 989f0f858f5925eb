using System.Globalization;
using System.Text.Json;
using DataPlane.Iceberg.Metadata;

namespace DataPlane.Iceberg.Operations;

/// <summary>
/// A writer's last commit in the history of a table's current snapshot: how DataPlane's pipelines find where to resume.
/// Each of their snapshots names its writer in the summary (<see cref="WriterKey"/>, the sink), and the newest such
/// snapshot among the current one's ancestors is the writer's last commit (a rolled-back commit is not an ancestor, so
/// the writer delivers its records again).
/// <para>
/// Snapshot expiry cuts that ancestry: it removes old snapshots, and a walk from the current snapshot ends at a parent
/// that is gone. So expiry leaves a marker at every cut it makes (each retained snapshot whose parent it removes): for
/// each writer, its newest commit below the cut, summary and all, in the table property
/// <c>dataplane.last-commit.&lt;writer&gt;</c>, keyed by the removed parent's id. The walk goes on from there, exactly as
/// it would have through the removed snapshots. A writer's last offsets thus survive expiry without its snapshot being
/// kept (which would pin every data file of that snapshot, long after compaction replaced them).
/// </para>
/// </summary>
public static class CommitHistory
{
    /// <summary>The summary key naming the writer of a snapshot (a pipeline's sink).</summary>
    public const string WriterKey = "dataplane.sink";

    /// <summary>The summary key of the location of a writer's operator-state checkpoint (a file, or a folder of files):
    /// what it names is kept by orphan removal while the commit is known, as a snapshot or as a marker.</summary>
    public const string CheckpointKey = "dataplane.checkpoint";

    /// <summary>The table property prefix of the markers expiry leaves, followed by the writer's name.</summary>
    public const string MarkerPrefix = "dataplane.last-commit.";

    /// <summary>A commit of a writer: its snapshot (which may be expired) and that snapshot's summary.</summary>
    public sealed record WriterCommit(long SnapshotId, long TimestampMs, IReadOnlyDictionary<string, string> Summary);

    /// <summary>The writer's newest commit in the history of the current snapshot, through expiry's markers; null when it has none.</summary>
    public static WriterCommit? LastCommit(TableMetadata metadata, string writer) => LastCommitFrom(metadata, metadata.CurrentSnapshotId, writer);

    /// <summary>
    /// The writer's commits in the history of the current snapshot, newest first, through expiry's markers: a marker's
    /// commit is the last one (what lay below the cut is gone; the marker keeps the newest commit only).
    /// </summary>
    public static IEnumerable<WriterCommit> History(TableMetadata metadata, string writer)
    {
        long? snapshotId = metadata.CurrentSnapshotId;
        // Bounded: parents never form a cycle in valid metadata, and damaged metadata must not loop for ever.
        for (int steps = 0; snapshotId is { } id && steps <= metadata.Snapshots.Count; steps++)
        {
            if (metadata.Snapshot(id) is not { } snapshot)
            {
                if (Markers(metadata, writer).GetValueOrDefault(id) is { } marker)
                    yield return marker;
                yield break;
            }
            if (IsBy(snapshot, writer))
                yield return Commit(snapshot);
            snapshotId = snapshot.ParentSnapshotId;
        }
    }

    /// <summary>Every commit of the writer the table still knows of: its snapshots (in the history or not) and the markers' commits.</summary>
    public static IEnumerable<WriterCommit> AllCommits(TableMetadata metadata, string writer) =>
        metadata.Snapshots.Where(s => IsBy(s, writer)).Select(Commit).Concat(Markers(metadata, writer).Values);

    /// <summary>Every checkpoint location a commit the table still knows of names (in a snapshot, or in a marker).</summary>
    public static IEnumerable<string> Checkpoints(TableMetadata metadata)
    {
        var writers = metadata.Properties.Keys.Where(k => k.StartsWith(MarkerPrefix, StringComparison.Ordinal)).Select(k => k[MarkerPrefix.Length..]);
        return metadata.Snapshots.Select(s => s.Summary)
            .Concat(writers.SelectMany(w => Markers(metadata, w).Values.Select(c => c.Summary)))
            .Select(s => s.GetValueOrDefault(CheckpointKey))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>The writer's newest commit in the history of <paramref name="snapshotId"/>, which may be a removed snapshot that a marker names.</summary>
    internal static WriterCommit? LastCommitFrom(TableMetadata metadata, long? snapshotId, string writer)
    {
        // Bounded: parents never form a cycle in valid metadata, and damaged metadata must not loop for ever.
        for (int steps = 0; snapshotId is { } id && steps <= metadata.Snapshots.Count; steps++)
        {
            if (metadata.Snapshot(id) is not { } snapshot)
                return Markers(metadata, writer).GetValueOrDefault(id);
            if (IsBy(snapshot, writer))
                return Commit(snapshot);
            snapshotId = snapshot.ParentSnapshotId;
        }
        return null;
    }

    /// <summary>
    /// The marker properties after <paramref name="expired"/> are removed from <paramref name="before"/>: for every writer
    /// with a commit below a cut, its value (null: remove the property). Unchanged values are left out.
    /// </summary>
    internal static Dictionary<string, string?> MarkersAfterExpiry(TableMetadata before, IReadOnlySet<long> expired)
    {
        var cuts = before.Snapshots.Where(s => !expired.Contains(s.SnapshotId))
            .Select(s => s.ParentSnapshotId)
            .OfType<long>()
            .Where(p => expired.Contains(p) || before.Snapshot(p) is null)
            .Distinct()
            .Order()
            .ToList();
        var writers = before.Snapshots.Select(s => s.Summary.GetValueOrDefault(WriterKey)).OfType<string>()
            .Concat(before.Properties.Keys.Where(k => k.StartsWith(MarkerPrefix, StringComparison.Ordinal)).Select(k => k[MarkerPrefix.Length..]))
            .Distinct(StringComparer.Ordinal);
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var writer in writers)
        {
            var markers = new SortedDictionary<long, WriterCommit>();
            foreach (var cut in cuts)
                if (LastCommitFrom(before, cut, writer) is { } commit)
                    markers[cut] = commit;
            var key = MarkerPrefix + writer;
            var value = markers.Count == 0 ? null : Write(markers);
            if (before.Properties.GetValueOrDefault(key) != value)
                result[key] = value;
        }
        return result;
    }

    private static bool IsBy(Snapshot snapshot, string writer) =>
        snapshot.Summary.TryGetValue(WriterKey, out var name) && name == writer;

    private static WriterCommit Commit(Snapshot snapshot) => new(snapshot.SnapshotId, snapshot.TimestampMs, snapshot.Summary);

    /// <summary>The writer's markers by the id of the removed snapshot they stand below; none when the property is absent or damaged.</summary>
    private static Dictionary<long, WriterCommit> Markers(TableMetadata metadata, string writer)
    {
        var result = new Dictionary<long, WriterCommit>();
        if (!metadata.Properties.TryGetValue(MarkerPrefix + writer, out var json))
            return result;
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var cut in doc.RootElement.EnumerateObject())
            {
                var c = cut.Value;
                var summary = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var p in c.GetProperty("summary").EnumerateObject())
                    summary[p.Name] = p.Value.GetString() ?? "";
                result[long.Parse(cut.Name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)] =
                    new WriterCommit(c.GetProperty("snapshot-id").GetInt64(), c.GetProperty("timestamp-ms").GetInt64(), summary);
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            // A property someone else changed into something else is no marker of ours: the history ends at the cut.
            result.Clear();
        }
        return result;
    }

    private static string Write(SortedDictionary<long, WriterCommit> markers) => Types.Json.Write(w =>
    {
        w.WriteStartObject();
        foreach (var (cut, commit) in markers)
        {
            w.WriteStartObject(cut.ToString(CultureInfo.InvariantCulture));
            w.WriteNumber("snapshot-id", commit.SnapshotId);
            w.WriteNumber("timestamp-ms", commit.TimestampMs);
            w.WriteStartObject("summary");
            foreach (var (k, v) in commit.Summary.OrderBy(p => p.Key, StringComparer.Ordinal))
                w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });
}
