namespace DataPlane.Pipelines.Sinks;

/// <summary>One commit of a sink: the data files it added cover stream records [StartOffset, EndOffset); a stateful
/// statement's commit also names the checkpoint of its operators' state at EndOffset (a table location or a store key).
/// For a Kafka-backed stream, <see cref="Kafka"/> holds the partitions' offsets (the offsets above are their sums); a
/// sink's last commit has there where every partition stands after its history. A pipeline over several streams' commit
/// names each stream's offsets in <see cref="Streams"/> (<see cref="Stream"/> names them all, the offsets above are sums).</summary>
internal sealed record SinkCommit(long Id, string Stream, long StartOffset, long EndOffset, long Records, int Files, DateTimeOffset CommittedAt,
    string? Checkpoint = null, KafkaOffsets? Kafka = null, StreamOffsets? Streams = null);
