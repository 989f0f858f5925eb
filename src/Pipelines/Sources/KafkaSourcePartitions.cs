using System.Globalization;
using System.Text;
using Apache.Arrow;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// Which Kafka partition each record of a batch the source appended came from, so that pipelines advance an event-time
/// watermark per partition: runs of records in their order in the batch, <c>partition:count</c>, in a key of the
/// batch's Arrow IPC schema metadata beside its positions (<see cref="KafkaSourcePositions"/>), e.g. <c>0:120,1:35,0:10</c>.
/// A batch without it (HTTP records, or appended before the source wrote it) is one run of partition 0.
/// </summary>
internal static class KafkaSourcePartitions
{
    public const string MetadataKey = "dataplane.source.kafka.partitions";

    /// <summary>Adds a record of <paramref name="partition"/> after those in <paramref name="runs"/>.</summary>
    public static void Add(List<(int Partition, int Count)> runs, int partition)
    {
        if (runs.Count > 0 && runs[^1].Partition == partition)
            runs[^1] = (partition, runs[^1].Count + 1);
        else
            runs.Add((partition, 1));
    }

    public static string Format(List<(int Partition, int Count)> runs)
    {
        var text = new StringBuilder(runs.Count * 8);
        foreach (var (partition, count) in runs)
            text.Append(text.Length == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{partition}:{count}");
        return text.ToString();
    }

    /// <summary>
    /// The runs of a batch read back from the log, into <paramref name="runs"/>; false when its schema has none, or they
    /// do not add up to its records (then the batch counts as one partition's).
    /// </summary>
    public static bool TryRead(RecordBatch batch, List<(int Partition, int Count)> runs)
    {
        runs.Clear();
        if (!batch.Schema.HasMetadata || !batch.Schema.Metadata.TryGetValue(MetadataKey, out var text))
            return false;
        long total = 0;
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = entry.IndexOf(':');
            if (colon < 0 || !int.TryParse(entry.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int partition)
                || !int.TryParse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0)
                break;
            runs.Add((partition, count));
            total += count;
        }
        if (total == batch.Length)
            return true;
        runs.Clear();
        return false;
    }
}
