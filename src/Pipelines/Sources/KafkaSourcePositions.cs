using System.Text;
using System.Text.Json;
using Apache.Arrow.Ipc;
using DataPlane.Pipelines.Log;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// The source's Kafka positions (per partition, the offset of the next message to consume) as they travel with each
/// batch: a key of the batch's Arrow IPC schema metadata, so the positions are on disk exactly when the records are.
/// Every batch carries the positions of all partitions, so the log's last batch alone says where to resume.
/// </summary>
internal static class KafkaSourcePositions
{
    public const string MetadataKey = "dataplane.source.kafka.positions";

    /// <summary><c>{"topic": "clicks", "partitions": {"0": 120, "1": 98}}</c></summary>
    public static string Format(string topic, IReadOnlyList<long> nextOffsets)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("topic", topic);
            w.WriteStartObject("partitions");
            for (int p = 0; p < nextOffsets.Count; p++)
                if (nextOffsets[p] >= 0)
                    w.WriteNumber(p.ToString(System.Globalization.CultureInfo.InvariantCulture), nextOffsets[p]);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The positions in one metadata value; null when it names another topic.</summary>
    public static Dictionary<int, long>? Parse(string value, string topic)
    {
        using var json = JsonDocument.Parse(value);
        if (json.RootElement.GetProperty("topic").GetString() != topic)
            return null;
        var positions = new Dictionary<int, long>();
        foreach (var p in json.RootElement.GetProperty("partitions").EnumerateObject())
            positions[int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture)] = p.Value.GetInt64();
        return positions;
    }

    /// <summary>
    /// The positions stored with the log's last batch; null when the log holds no batch, or its last batch has none
    /// (it holds no batch from this source).
    /// </summary>
    public static Dictionary<int, long>? ReadFromTail(IngestLog log, string topic)
    {
        long end = log.EndOffset;
        if (end == 0 || end <= log.StartOffset || !log.TryRead(end - 1, out var batch))
            return null;
        try
        {
            using var reader = new ArrowStreamReader(batch.Payload);
            var schema = reader.Schema;
            return schema.HasMetadata && schema.Metadata.TryGetValue(MetadataKey, out var value) ? Parse(value, topic) : null;
        }
        finally
        {
            batch.Release();
        }
    }
}
