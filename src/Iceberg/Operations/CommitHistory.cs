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
/// <para>
/// A writer reading a Kafka topic names in each commit the partitions it covers (<see cref="KafkaOffsetsKey"/>), and
/// workers that share the topic commit partition subsets, so where a partition resumes is the newest commit naming it.
/// The marker then keeps, below the newest commit, each older commit that is the newest to name one of the topic's
/// partitions (under <c>"older"</c>, newest first), until every partition is named: no partition's position is lost.
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

    /// <summary>The summary keys of a commit of a Kafka topic's records: the topic, its partition count then, and the
    /// offsets of each partition the commit covers (<c>0:120-340,1:98-200</c>).</summary>
    public const string KafkaTopicKey = "dataplane.kafka.topic";
    public const string KafkaPartitionCountKey = "dataplane.kafka.partitions";
    public const string KafkaOffsetsKey = "dataplane.kafka.offsets";

    /// <summary>A commit of a writer: its snapshot (which may be expired) and that snapshot's summary.</summary>
    public sealed record WriterCommit(long SnapshotId, long TimestampMs, IReadOnlyDictionary<string, string> Summary);

    /// <summary>The writer's newest commit in the history of the current snapshot, through expiry's markers; null when it has none.</summary>
    public static WriterCommit? LastCommit(TableMetadata metadata, string writer) => LastCommitFrom(metadata, metadata.CurrentSnapshotId, writer);

    /// <summary>
    /// The writer's commits in the history of the current snapshot, newest first, through expiry's markers: a marker's
    /// commits are the last ones (what lay below the cut is gone; the marker keeps the newest commit, and the newest
    /// naming each Kafka partition).
    /// </summary>
    public static IEnumerable<WriterCommit> History(TableMetadata metadata, string writer) => HistoryFrom(metadata, metadata.CurrentSnapshotId, writer);

    private static IEnumerable<WriterCommit> HistoryFrom(TableMetadata metadata, long? snapshotId, string writer)
    {
        // Bounded: parents never form a cycle in valid metadata, and damaged metadata must not loop for ever.
        for (int steps = 0; snapshotId is { } id && steps <= metadata.Snapshots.Count; steps++)
        {
            if (metadata.Snapshot(id) is not { } snapshot)
            {
                foreach (var commit in Markers(metadata, writer).GetValueOrDefault(id) ?? [])
                    yield return commit;
                yield break;
            }
            if (IsBy(snapshot, writer))
                yield return Commit(snapshot);
            snapshotId = snapshot.ParentSnapshotId;
        }
    }

    /// <summary>Every commit of the writer the table still knows of: its snapshots (in the history or not) and the markers' commits.</summary>
    public static IEnumerable<WriterCommit> AllCommits(TableMetadata metadata, string writer) =>
        metadata.Snapshots.Where(s => IsBy(s, writer)).Select(Commit).Concat(Markers(metadata, writer).Values.SelectMany(c => c));

    /// <summary>Every checkpoint location a commit the table still knows of names (in a snapshot, or in a marker).</summary>
    public static IEnumerable<string> Checkpoints(TableMetadata metadata)
    {
        var writers = metadata.Properties.Keys.Where(k => k.StartsWith(MarkerPrefix, StringComparison.Ordinal)).Select(k => k[MarkerPrefix.Length..]);
        return metadata.Snapshots.Select(s => s.Summary)
            .Concat(writers.SelectMany(w => Markers(metadata, w).Values.SelectMany(c => c).Select(c => c.Summary)))
            .Select(s => s.GetValueOrDefault(CheckpointKey))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>Whether <paramref name="file"/> belongs to <paramref name="checkpoint"/>, both as locations or both as
    /// store keys: the checkpoint itself (a file), or a file under it (a folder, named with or without its last '/').</summary>
    public static bool InCheckpoint(string checkpoint, string file) =>
        file == checkpoint || file.StartsWith(checkpoint.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>The writer's newest commit in the history of <paramref name="snapshotId"/>, which may be a removed snapshot that a marker names.</summary>
    internal static WriterCommit? LastCommitFrom(TableMetadata metadata, long? snapshotId, string writer)
    {
        // Bounded: parents never form a cycle in valid metadata, and damaged metadata must not loop for ever.
        for (int steps = 0; snapshotId is { } id && steps <= metadata.Snapshots.Count; steps++)
        {
            if (metadata.Snapshot(id) is not { } snapshot)
                return Markers(metadata, writer).GetValueOrDefault(id)?[0];
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
            var markers = new SortedDictionary<long, IReadOnlyList<WriterCommit>>();
            foreach (var cut in cuts)
                if (Kept(HistoryFrom(before, cut, writer)) is { Count: > 0 } kept)
                    markers[cut] = kept;
            var key = MarkerPrefix + writer;
            var value = markers.Count == 0 ? null : Write(markers);
            if (before.Properties.GetValueOrDefault(key) != value)
                result[key] = value;
        }
        return result;
    }

    /// <summary>
    /// What a marker keeps of the writer's commits below a cut (newest first): the newest, and when it names Kafka
    /// partitions, each older commit of the same topic that is the newest to name a partition no newer one names, until
    /// every partition of the topic is named (an older commit of another topic ends it: the writer has not read that since).
    /// </summary>
    private static List<WriterCommit> Kept(IEnumerable<WriterCommit> newestFirst)
    {
        var kept = new List<WriterCommit>();
        string? topic = null;
        int count = 0;
        var named = new HashSet<int>();
        foreach (var commit in newestFirst)
        {
            if (kept.Count == 0)
            {
                kept.Add(commit);
                if (!commit.Summary.TryGetValue(KafkaTopicKey, out topic))
                    break;
                named.UnionWith(KafkaPartitions(commit.Summary));
                count = commit.Summary.TryGetValue(KafkaPartitionCountKey, out var c) && int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : named.Count;
                continue;
            }
            if (named.Count >= count)
                break;
            if (!commit.Summary.TryGetValue(KafkaTopicKey, out var other))
                continue; // names no partition: the pipelines' walk passes it over too
            if (other != topic)
                break;
            int before = named.Count;
            named.UnionWith(KafkaPartitions(commit.Summary));
            if (named.Count > before)
                kept.Add(commit);
        }
        return kept;
    }

    /// <summary>The partitions a commit's <see cref="KafkaOffsetsKey"/> names (<c>0:120-340,1:98-200</c>); none when it is absent or damaged.</summary>
    private static IEnumerable<int> KafkaPartitions(IReadOnlyDictionary<string, string> summary)
    {
        if (!summary.TryGetValue(KafkaOffsetsKey, out var offsets))
            yield break;
        foreach (var entry in offsets.Split(',', StringSplitOptions.RemoveEmptyEntries))
            if (entry.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon && int.TryParse(entry.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int partition))
                yield return partition;
    }

    private static bool IsBy(Snapshot snapshot, string writer) =>
        snapshot.Summary.TryGetValue(WriterKey, out var name) && name == writer;

    private static WriterCommit Commit(Snapshot snapshot) => new(snapshot.SnapshotId, snapshot.TimestampMs, snapshot.Summary);

    /// <summary>The writer's markers by the id of the removed snapshot they stand below, each its commits newest first (at
    /// least one); none when the property is absent or damaged.</summary>
    private static Dictionary<long, IReadOnlyList<WriterCommit>> Markers(TableMetadata metadata, string writer)
    {
        var result = new Dictionary<long, IReadOnlyList<WriterCommit>>();
        if (!metadata.Properties.TryGetValue(MarkerPrefix + writer, out var json))
            return result;
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var cut in doc.RootElement.EnumerateObject())
            {
                var commits = new List<WriterCommit> { ReadCommit(cut.Value) };
                // Older commits kept for the Kafka partitions the newest does not name (absent from markers written before them).
                if (cut.Value.TryGetProperty("older", out var older))
                    foreach (var c in older.EnumerateArray())
                        commits.Add(ReadCommit(c));
                result[long.Parse(cut.Name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)] = commits;
            }
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            // A property someone else changed into something else is no marker of ours: the history ends at the cut.
            result.Clear();
        }
        return result;
    }

    private static WriterCommit ReadCommit(JsonElement c)
    {
        var summary = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in c.GetProperty("summary").EnumerateObject())
            summary[p.Name] = p.Value.GetString() ?? "";
        return new WriterCommit(c.GetProperty("snapshot-id").GetInt64(), c.GetProperty("timestamp-ms").GetInt64(), summary);
    }

    private static string Write(SortedDictionary<long, IReadOnlyList<WriterCommit>> markers) => Types.Json.Write(w =>
    {
        w.WriteStartObject();
        foreach (var (cut, commits) in markers)
        {
            w.WriteStartObject(cut.ToString(CultureInfo.InvariantCulture));
            WriteCommit(w, commits[0]);
            if (commits.Count > 1)
            {
                w.WriteStartArray("older");
                foreach (var older in commits.Skip(1))
                {
                    w.WriteStartObject();
                    WriteCommit(w, older);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    private static void WriteCommit(Utf8JsonWriter w, WriterCommit commit)
    {
        w.WriteNumber("snapshot-id", commit.SnapshotId);
        w.WriteNumber("timestamp-ms", commit.TimestampMs);
        w.WriteStartObject("summary");
        foreach (var (k, v) in commit.Summary.OrderBy(p => p.Key, StringComparer.Ordinal))
            w.WriteString(k, v);
        w.WriteEndObject();
    }
}
