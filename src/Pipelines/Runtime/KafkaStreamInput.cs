using System.Diagnostics;
using Apache.Arrow;
using Confluent.Kafka;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A Kafka-backed stream's topic as one pipeline run reads it, in place of the local ingest log: each partition assigned
/// from the position the pipeline's sinks give it (the least of their committed offsets, never the consumer group's),
/// read as batches of one partition each, parsed by the stream's schema. A batch never spans a sink's resume position,
/// so a sink either needs a whole batch or none of it. Messages that do not fit the schema (another producer's) are
/// skipped and counted. The consumer group <c>dataplane.pipeline.&lt;name&gt;</c> gets the committed positions for
/// monitoring tools only (<see cref="StorePositions"/>).
/// </summary>
internal sealed class KafkaStreamInput : IDisposable
{
    private const int MaxChunkRecords = 20_000;
    private const int MaxChunkBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);

    private readonly IngestStream _stream;
    private readonly KafkaSourceDefinition _source;
    private readonly int _maxRecordBytes;
    private readonly ILogger _logger;
    private readonly RepeatedLogLines _lines;
    private readonly IConsumer<Ignore, MessageSlice> _consumer;
    private readonly MessageBuffer _buffer;
    private readonly MessageBuffer _partitionBuffer;
    private readonly RecordBatchParser _parser;
    private readonly List<(int Partition, long Offset, MessageSlice Slice)> _messages = [];
    private int _nextMessage;
    private long[] _next = [];
    private long[] _start = [];
    private long[][] _cuts = [];
    private RecordBatch? _current;
    private long _invalid;

    public KafkaStreamInput(IngestStream stream, string pipeline, int maxRecordBytes, ILogger logger)
    {
        _stream = stream;
        _source = stream.Definition.Source ?? throw new ArgumentException($"Stream '{stream.Name}' has no Kafka topic.");
        _maxRecordBytes = maxRecordBytes;
        _logger = logger;
        _lines = new RepeatedLogLines(logger, stream.Name, TimeProvider.System);
        _buffer = new MessageBuffer(maxRecordBytes);
        _partitionBuffer = new MessageBuffer(maxRecordBytes);
        _parser = new RecordBatchParser(stream.Definition);
        var config = _source.ConsumerConfig(stream.Name);
        // The pipeline's own group (a stream's setting would make its pipelines overwrite each other's positions).
        config.GroupId = GroupId(pipeline);
        _consumer = new ConsumerBuilder<Ignore, MessageSlice>(config)
            .SetValueDeserializer(_buffer)
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning && m.Facility != "CONFWARN")
                    _lines.Log(m.Facility, m.Message);
            })
            .SetErrorHandler((_, _) => { })
            .Build();
    }

    public static string GroupId(string pipeline) => "dataplane.pipeline." + pipeline;

    public string Topic => _source.Topic;
    public int PartitionCount => _next.Length;
    /// <summary>Messages skipped since this run began because they do not fit the stream's schema.</summary>
    public long InvalidRecords => _invalid;

    /// <summary>Where this run began <paramref name="partition"/>.</summary>
    public long Start(int partition) => _start[partition];

    /// <summary>The offset of the next message of <paramref name="partition"/> this run hands out.</summary>
    public long Position(int partition) => _next[partition];

    /// <summary>The topic's partition count, waiting for its metadata (a missing topic, no leader, or no broker: an
    /// <see cref="InvalidOperationException"/>, and the runner retries with backoff).</summary>
    public int ReadPartitionCount()
    {
        using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(_source.Topic, BrokerTimeout);
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException($"Kafka on {_source.BootstrapServers} did not answer for topic '{_source.Topic}': {e.Error.Reason}", e);
        }
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _source.Topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0 || topic.Partitions.Any(p => p.Leader < 0))
            throw new InvalidOperationException($"Kafka topic '{_source.Topic}' on {_source.BootstrapServers} is not available ({topic?.Error.Reason ?? "not listed"}).");
        return topic.Partitions.Count;
    }

    /// <summary>
    /// Assigns every partition at <paramref name="start"/> (-1: its first message still in the topic); the sinks' resume
    /// positions <paramref name="cuts"/> split batches. A start below the partition's first message means messages were
    /// deleted (retention) before the pipeline committed them: refused, as for a local log that released them.
    /// </summary>
    public void Assign(long[] start, IReadOnlyList<long>[] cuts)
    {
        var next = new long[start.Length];
        var assignment = new List<TopicPartitionOffset>(start.Length);
        for (int p = 0; p < start.Length; p++)
        {
            var partition = new TopicPartition(_source.Topic, p);
            long low = _consumer.QueryWatermarkOffsets(partition, BrokerTimeout).Low.Value;
            if (start[p] >= 0 && start[p] < low)
                throw new InvalidOperationException($"The pipeline resumes partition {p} of Kafka topic '{_source.Topic}' at offset {start[p]}, but the partition " +
                    $"now starts at {low}: messages were deleted (retention) before the pipeline committed them.");
            next[p] = start[p] >= 0 ? start[p] : Math.Max(low, 0);
            assignment.Add(new TopicPartitionOffset(partition, next[p]));
        }
        _next = next;
        _start = (long[])next.Clone();
        _cuts = [.. cuts.Select(c => c.Order().ToArray())];
        _messages.Clear();
        _nextMessage = 0;
        _consumer.Assign(assignment);
    }

    /// <summary>
    /// The next batch of one partition, waiting up to <paramref name="wait"/> for messages; false when none came. The
    /// batch's records (null when every message was skipped) are valid until the next call.
    /// </summary>
    public bool TryRead(TimeSpan wait, CancellationToken cancellationToken, out KafkaStreamBatch batch)
    {
        _lines.Flush();
        _current?.Dispose();
        _current = null;
        if (_nextMessage >= _messages.Count && !Consume(wait, cancellationToken))
        {
            batch = default;
            return false;
        }
        int partition = _messages[_nextMessage].Partition;
        long first = _messages[_nextMessage].Offset;
        long cut = NextCut(partition, first);
        int end = _nextMessage;
        while (end < _messages.Count && _messages[end].Partition == partition && _messages[end].Offset < cut)
            end++;
        long endOffset = _messages[end - 1].Offset + 1;
        var (records, bytes) = Parse(_nextMessage, end);
        batch = new KafkaStreamBatch(partition, first, endOffset, end - _nextMessage, records, bytes);
        _nextMessage = end;
        _next[partition] = endOffset;
        _current = records;
        return true;
    }

    /// <summary>The first resume position of a sink past <paramref name="offset"/>: where the batch must end.</summary>
    private long NextCut(int partition, long offset)
    {
        foreach (long c in _cuts[partition])
            if (c > offset)
                return c;
        return long.MaxValue;
    }

    /// <summary>Gathers messages until the chunk is full, or <see cref="Linger"/> after its first; sorted by partition, then offset.</summary>
    private bool Consume(TimeSpan wait, CancellationToken cancellationToken)
    {
        _messages.Clear();
        _nextMessage = 0;
        _buffer.Clear();
        var started = Stopwatch.GetTimestamp();
        long first = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var remaining = _messages.Count > 0 ? Linger - Stopwatch.GetElapsedTime(first) : wait - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
                break;
            var result = _consumer.Consume(remaining);
            if (result is null)
                continue;
            if (_messages.Count == 0)
                first = Stopwatch.GetTimestamp();
            _messages.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
            if (_messages.Count >= MaxChunkRecords || _buffer.Length >= MaxChunkBytes)
                break;
        }
        _messages.Sort(static (a, b) => a.Partition != b.Partition ? a.Partition.CompareTo(b.Partition) : a.Offset.CompareTo(b.Offset));
        return _messages.Count > 0;
    }

    /// <summary>Messages [from, to) of one partition as a batch of the stream's schema; those that do not fit are skipped.</summary>
    private (RecordBatch? Records, long Bytes) Parse(int from, int to)
    {
        _partitionBuffer.Clear();
        int objects = 0;
        for (int i = from; i < to; i++)
        {
            var m = _messages[i];
            if (m.Slice.Shape == MessageShape.Object)
            {
                _partitionBuffer.Append(_buffer.Slice(m.Slice));
                objects++;
            }
            else
                Skip(m.Partition, m.Offset, m.Slice.Shape == MessageShape.TooLarge
                    ? $"the message is {m.Slice.Length} bytes, over the maximum record size of {_maxRecordBytes} bytes"
                    : "the message is not one JSON object");
        }
        long bytes = _partitionBuffer.Length;
        if (objects == 0)
            return (null, bytes);
        if (_parser.Parse(_partitionBuffer.Span, _maxRecordBytes) == ParseOutcome.Accepted && _parser.RecordCount == objects)
            return (_parser.Build(_stream.Definition.ArrowSchema), bytes);
        // Some do not fit: each alone, keeping the rest (another producer's messages; ours were checked when posted).
        var kept = new MessageBuffer(_maxRecordBytes);
        int valid = 0;
        for (int i = from; i < to; i++)
        {
            var m = _messages[i];
            if (m.Slice.Shape != MessageShape.Object)
                continue;
            var alone = _parser.Parse(_buffer.Slice(m.Slice), _maxRecordBytes);
            if (alone == ParseOutcome.Accepted && _parser.RecordCount == 1)
            {
                kept.Append(_buffer.Slice(m.Slice));
                valid++;
            }
            else
                Skip(m.Partition, m.Offset, _parser.Error ?? _parser.Problems.FirstOrDefault()?.Reason ?? "the message holds more than one JSON value");
        }
        if (valid == 0)
            return (null, bytes);
        if (_parser.Parse(kept.Span, _maxRecordBytes) != ParseOutcome.Accepted || _parser.RecordCount != valid)
            throw new InvalidOperationException($"Messages that parse one by one failed to parse together: {_parser.Error ?? _parser.Problems.FirstOrDefault()?.Reason}.");
        return (_parser.Build(_stream.Definition.ArrowSchema), bytes);
    }

    private void Skip(int partition, long offset, string reason)
    {
        _invalid++;
        _lines.Log("SKIPPED", $"Stream {_stream.Name}: skipped the message at partition {partition} offset {offset} of topic '{_source.Topic}': {reason}");
    }

    /// <summary>Per partition, the offsets every sink has committed (the least), for the group's lag in Kafka's tools.</summary>
    public void StorePositions(long[] committed)
    {
        for (int p = 0; p < committed.Length; p++)
        {
            if (committed[p] < 0)
                continue;
            try { _consumer.StoreOffset(new TopicPartitionOffset(_source.Topic, p, committed[p])); }
            catch (KafkaException) { } // only monitoring depends on it
        }
    }

    /// <summary>Each partition's high watermark now: the offset after its last acknowledged message.</summary>
    public long[] HighWatermarks()
    {
        var highs = new long[_next.Length];
        for (int p = 0; p < highs.Length; p++)
            highs[p] = _consumer.QueryWatermarkOffsets(new TopicPartition(_source.Topic, p), BrokerTimeout).High.Value;
        return highs;
    }

    public void Dispose()
    {
        _current?.Dispose();
        try { _consumer.Close(); } catch (KafkaException) { } // commits the stored positions
        _consumer.Dispose();
        _lines.Flush(stopping: true);
    }
}

/// <summary>Messages [FirstOffset, EndOffset) of one partition; Records null when none fit the schema.</summary>
internal readonly record struct KafkaStreamBatch(int Partition, long FirstOffset, long EndOffset, int Messages, RecordBatch? Records, long Bytes);
