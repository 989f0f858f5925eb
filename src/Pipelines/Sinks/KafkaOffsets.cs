using System.Globalization;
using System.Text;
using DataPlane.Iceberg.Metadata;
using DataPlane.Iceberg.Operations;

namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// The Kafka offsets a sink's commit covers, per partition of the Kafka-backed stream's topic: its files hold the
/// messages [start, end) of each partition it names. In the snapshot summary beside the sink and stream:
/// <c>dataplane.kafka.topic</c>, <c>dataplane.kafka.partitions</c> (the topic's partition count then), and
/// <c>dataplane.kafka.offsets</c> = <c>0:120-340,1:98-200</c>. A commit names the partitions its writer read (one
/// process: all of them; a worker of a consumer group: those assigned to it), so where a partition resumes is the end in
/// the newest commit of the sink's history that names it (<see cref="Merge"/>).
/// </summary>
internal sealed class KafkaOffsets
{
    public const string TopicKey = CommitHistory.KafkaTopicKey;
    public const string PartitionCountKey = CommitHistory.KafkaPartitionCountKey;
    public const string OffsetsKey = CommitHistory.KafkaOffsetsKey;

    public KafkaOffsets(string topic, int partitionCount, IReadOnlyDictionary<int, (long Start, long End)> partitions, IReadOnlySet<int>? fresh = null,
        IReadOnlyDictionary<int, string>? checkpoints = null)
    {
        Topic = topic;
        PartitionCount = partitionCount;
        Partitions = partitions;
        Fresh = fresh ?? new HashSet<int>();
        Checkpoints = checkpoints ?? new Dictionary<int, string>();
    }

    /// <summary>Where the sink's commits leave each partition (<see cref="Merge"/>): the checkpoint the commit that ends it
    /// there names, if any; the state of that partition at its end is in it (per partition when the pipeline's state follows
    /// the partitions).</summary>
    public IReadOnlyDictionary<int, string> Checkpoints { get; }

    /// <summary>For a commit to make: the partitions no commit of the sink named when its writer began them (read from their first message).</summary>
    public IReadOnlySet<int> Fresh { get; }

    public string Topic { get; }
    public int PartitionCount { get; }
    /// <summary>Per partition: the offset of the first message covered, and of the next message after the last covered.</summary>
    public IReadOnlyDictionary<int, (long Start, long End)> Partitions { get; }

    /// <summary>Summed over the partitions: what the summary's <c>dataplane.start-offset</c> and <c>end-offset</c> say for such a commit.</summary>
    public long StartTotal => Partitions.Values.Sum(p => p.Start);
    public long EndTotal => Partitions.Values.Sum(p => p.End);

    public void WriteTo(IDictionary<string, string> summary)
    {
        summary[TopicKey] = Topic;
        summary[PartitionCountKey] = PartitionCount.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        foreach (var (partition, (start, end)) in Partitions.OrderBy(p => p.Key))
            text.Append(text.Length == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{partition}:{start}-{end}");
        summary[OffsetsKey] = text.ToString();
    }

    /// <summary>The offsets in a commit's summary; null when it has none (a commit of a stream with a local log).</summary>
    public static KafkaOffsets? From(IReadOnlyDictionary<string, string> summary)
    {
        if (!summary.TryGetValue(TopicKey, out var topic) || !summary.TryGetValue(OffsetsKey, out var offsets))
            return null;
        try
        {
            var partitions = new Dictionary<int, (long, long)>();
            foreach (var entry in offsets.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int colon = entry.IndexOf(':');
                int dash = entry.IndexOf('-', colon + 1);
                partitions[int.Parse(entry.AsSpan(0, colon), CultureInfo.InvariantCulture)] =
                    (long.Parse(entry.AsSpan(colon + 1, dash - colon - 1), CultureInfo.InvariantCulture), long.Parse(entry.AsSpan(dash + 1), CultureInfo.InvariantCulture));
            }
            int count = summary.TryGetValue(PartitionCountKey, out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : partitions.Count;
            return new KafkaOffsets(topic, count, partitions);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"The snapshot summary's {OffsetsKey} '{offsets}' is not of the form 0:120-340,1:98-200.", e);
        }
    }

    /// <summary>Where the sink's commits in the history of the table's current snapshot (through expiry's markers) leave each partition; null: none names one.</summary>
    public static KafkaOffsets? Positions(TableMetadata metadata, string sink) =>
        Merge(CommitHistory.History(metadata, sink).Select(c => c.Summary));

    /// <summary>
    /// Where each partition stands after <paramref name="newestFirst"/>, summaries of one sink's commits from the newest
    /// back through its history: for each partition, the end in the newest commit naming it. The walk stops once every
    /// partition of the topic is found. Null when no commit names a partition.
    /// </summary>
    public static KafkaOffsets? Merge(IEnumerable<IReadOnlyDictionary<string, string>> newestFirst)
    {
        string? topic = null;
        int count = 0;
        var found = new Dictionary<int, (long, long)>();
        var checkpoints = new Dictionary<int, string>();
        foreach (var summary in newestFirst)
        {
            if (From(summary) is not { } offsets)
                continue;
            if (topic is null)
            {
                topic = offsets.Topic;
                count = offsets.PartitionCount;
            }
            else if (offsets.Topic != topic)
                break; // an older commit of another topic: the sink was not reading it since
            var checkpoint = summary.GetValueOrDefault(CommitHistory.CheckpointKey);
            foreach (var (partition, range) in offsets.Partitions)
                if (found.TryAdd(partition, range) && checkpoint is not null)
                    checkpoints[partition] = checkpoint;
            if (found.Count >= count)
                break;
        }
        return topic is null ? null : new KafkaOffsets(topic, count, found, checkpoints: checkpoints);
    }
}
