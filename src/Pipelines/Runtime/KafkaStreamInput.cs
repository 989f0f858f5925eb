using System.Diagnostics;
using Apache.Arrow;
using Confluent.Kafka;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A Kafka-backed stream's topic as a pipeline's worker reads it, in place of the local ingest log. The workers of a
/// pipeline (every process that runs it) share the topic's partitions as one consumer group,
/// <c>dataplane.pipeline.&lt;name&gt;</c>: the group says which partitions this worker has (<see cref="WaitForAssignment"/>),
/// and the run positions each where the pipeline's sinks' commits in the table leave it (the least of them; never the
/// group's committed offsets, which it gets for monitoring tools only, <see cref="StorePositions"/>). A rebalance
/// (eager: every partition revoked, then the new share assigned) surfaces as <see cref="KafkaRebalanceException"/> from
/// <see cref="TryRead"/>, and the run starts over from the table: what it read and did not commit is dropped, never
/// committed later. The input, and so the group membership, outlives the runs: a new consumer per run would rebalance the
/// whole group each time. Batches hold one partition each, parsed by the stream's schema; a batch never spans a sink's
/// resume position, so a sink either needs a whole batch or none of it. Messages that do not fit the schema (another
/// producer's) are skipped and counted.
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
    // Watermarks are asked on a client of their own, which never fetches: on the reading consumer's connection a
    // ListOffsets request waits behind its fetch, which the broker holds up to fetch.wait.max.ms when the partitions
    // have nothing new (a 0.9 broker answers a connection's requests one at a time), so a flush asking four partitions'
    // high watermarks waited two seconds.
    private IConsumer<Ignore, Ignore>? _watermarks;
    private readonly string _group;
    private readonly MessageBuffer _buffer;
    // Two parsers, each with the NDJSON buffer it parses, in turn: the next batch of a chunk is parsed on the thread pool
    // while the run hands the current one to its statements and Parquet writer (a batch's records live in its parser's
    // buffers, so each parser waits until the batch it built is done with).
    private readonly MessageBuffer[] _partitionBuffers;
    private readonly RecordBatchParser[] _parsers;
    private int _parserIndex;
    private (int From, Task<(RecordBatch? Records, long Bytes)> Parsed)? _ahead;
    private readonly List<(int Partition, long Offset, MessageSlice Slice)> _messages = [];
    private int _nextMessage;
    private long[] _next = [];
    private long[] _start = [];
    private long[][] _cuts = [];
    private RecordBatch? _current;
    private long _invalid;
    // Set by the rebalance handlers, which librdkafka calls inside Consume on the run's thread.
    private List<int>? _given;
    private bool _rebalanced;
    private int[] _assigned = [];
    private long[] _high = [];
    private KafkaPartitionLag[] _lag = [];

    public KafkaStreamInput(IngestStream stream, string pipeline, int maxRecordBytes, ILogger logger)
    {
        _stream = stream;
        _source = stream.Definition.Source ?? throw new ArgumentException($"Stream '{stream.Name}' has no Kafka topic.");
        _maxRecordBytes = maxRecordBytes;
        _logger = logger;
        _lines = new RepeatedLogLines(logger, stream.Name, TimeProvider.System);
        _buffer = new MessageBuffer(maxRecordBytes, _source.Lines);
        _partitionBuffers = [new MessageBuffer(maxRecordBytes), new MessageBuffer(maxRecordBytes)];
        _parsers = [new RecordBatchParser(stream.Definition), new RecordBatchParser(stream.Definition)];
        var config = _source.ConsumerConfig(stream.Name);
        // The pipeline's own group (a stream's setting would make its pipelines overwrite each other's positions).
        config.GroupId = _group = GroupId(pipeline);
        _consumer = new ConsumerBuilder<Ignore, MessageSlice>(config)
            .SetValueDeserializer(_buffer)
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning && m.Facility != "CONFWARN")
                    _lines.Log(m.Facility, m.Message);
            })
            .SetErrorHandler((_, _) => { })
            // Nothing is assigned in the handler: the run positions the partitions from the table (Assign), and never
            // commits from inside a rebalance callback (a synchronous commit there can wait forever, see the Slurper).
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                _given = [.. partitions.Where(p => p.Topic == _source.Topic).Select(p => p.Partition.Value).Order()];
                _rebalanced = true;
                return [];
            })
            .SetPartitionsRevokedHandler((_, _) => Revoked())
            .SetPartitionsLostHandler((_, _) => Revoked())
            .Build();
        _consumer.Subscribe(_source.Topic);
    }

    private void Revoked()
    {
        _given = null;
        _rebalanced = true;
        _assigned = [];
        Volatile.Write(ref _lag, []);
    }

    public static string GroupId(string pipeline) => "dataplane.pipeline." + pipeline;

    public string Topic => _source.Topic;
    public int PartitionCount => _next.Length;
    /// <summary>The partitions this worker reads in this run, in order.</summary>
    public IReadOnlyList<int> Assigned => _assigned;
    /// <summary>Per partition read: the next offset to read, the high watermark last seen (-1: none yet) and their
    /// difference; readable from any thread.</summary>
    public IReadOnlyList<KafkaPartitionLag> Lag => Volatile.Read(ref _lag);
    /// <summary>Messages skipped since this run began because they do not fit the stream's schema.</summary>
    public long InvalidRecords => Interlocked.Read(ref _invalid);

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
    /// Waits for the group to give this worker its partitions (after the first join, and after each rebalance); answers
    /// them, maybe none (more workers than partitions). Messages are not read meanwhile: nothing is assigned yet.
    /// </summary>
    public IReadOnlyList<int> WaitForAssignment(CancellationToken cancellationToken)
    {
        _rebalanced = false;
        while (_given is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Serves the group's callbacks; nothing is assigned, so no message comes and each call lasts its whole
            // timeout: a short one, or the run would start up to that long after the group gave its partitions.
            _consumer.Consume(AssignmentPoll);
        }
        _rebalanced = false;
        return _given;
    }

    private static readonly TimeSpan AssignmentPoll = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Assigns the partitions the group gave (<see cref="WaitForAssignment"/>), each at <paramref name="start"/> (indexed by
    /// partition; -1: its first message still in the topic); the sinks' resume positions <paramref name="cuts"/> split
    /// batches. A start below the partition's first message means messages were deleted (retention) before the pipeline
    /// committed them: refused, as for a local log that released them. With <paramref name="whole"/> (a pipeline whose
    /// state is kept per sink, not per partition) one worker reads every partition: the one the group gave partition 0;
    /// the others read none.
    /// </summary>
    public void Assign(long[] start, IReadOnlyList<long>[] cuts, bool whole = false)
    {
        var group = _given ?? throw new InvalidOperationException("The group has not assigned partitions yet.");
        IReadOnlyList<int> given = !whole ? group : group.Contains(0) ? [.. Enumerable.Range(0, start.Length)] : [];
        var next = new long[start.Length];
        var assignment = new List<TopicPartitionOffset>(given.Count);
        foreach (int p in given)
        {
            if (p >= start.Length)
                throw new InvalidOperationException($"The group assigned partition {p} of Kafka topic '{_source.Topic}', which has {start.Length} partitions as this run read it.");
            var partition = new TopicPartition(_source.Topic, p);
            long low = Watermarks.QueryWatermarkOffsets(partition, BrokerTimeout).Low.Value;
            if (start[p] >= 0 && start[p] < low)
                throw new InvalidOperationException($"The pipeline resumes partition {p} of Kafka topic '{_source.Topic}' at offset {start[p]}, but the partition " +
                    $"now starts at {low}: messages were deleted (retention) before the pipeline committed them.");
            next[p] = start[p] >= 0 ? start[p] : Math.Max(low, 0);
            assignment.Add(new TopicPartitionOffset(partition, next[p]));
        }
        _next = next;
        _start = (long[])next.Clone();
        _high = new long[start.Length];
        System.Array.Fill(_high, -1);
        _cuts = [.. cuts.Select(c => c.Order().ToArray())];
        DropAhead();
        _messages.Clear();
        _nextMessage = 0;
        _assigned = [.. given];
        // Outside the rebalance callback, as librdkafka allows with the eager protocol (the one a 0.9 broker has): the
        // assignment with the table's offsets replaces the empty one the handler gave.
        _consumer.Assign(assignment);
        PublishLag();
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
            PublishLag();
            batch = default;
            return false;
        }
        int partition = _messages[_nextMessage].Partition;
        long first = _messages[_nextMessage].Offset;
        int end = BatchEnd(_nextMessage);
        long endOffset = _messages[end - 1].Offset + 1;
        RecordBatch? records;
        long bytes;
        if (_ahead is { } ahead && ahead.From == _nextMessage)
        {
            _ahead = null;
            (records, bytes) = ahead.Parsed.GetAwaiter().GetResult();
        }
        else
        {
            DropAhead();
            (records, bytes) = Parse(_parserIndex ^= 1, _nextMessage, end);
        }
        if (end < _messages.Count)
        {
            int from = end, to = BatchEnd(end), set = _parserIndex ^= 1;
            _ahead = (from, Task.Run(() => Parse(set, from, to)));
        }
        batch = new KafkaStreamBatch(partition, first, endOffset, end - _nextMessage, records, bytes);
        _nextMessage = end;
        _next[partition] = endOffset;
        _current = records;
        if (_nextMessage >= _messages.Count)
            PublishLag();
        return true;
    }

    /// <summary>Where the batch starting at message <paramref name="from"/> of the chunk ends: at its partition's end in the
    /// chunk, or at a sink's resume position.</summary>
    private int BatchEnd(int from)
    {
        int partition = _messages[from].Partition;
        long cut = NextCut(partition, _messages[from].Offset);
        int end = from;
        while (end < _messages.Count && _messages[end].Partition == partition && _messages[end].Offset < cut)
            end++;
        return end;
    }

    /// <summary>Waits for a batch parsed ahead that will not be handed out (the run starts over, or stops) and drops it:
    /// the chunk's messages it reads are about to be cleared.</summary>
    private void DropAhead()
    {
        if (_ahead is not { } ahead)
            return;
        _ahead = null;
        try
        {
            ahead.Parsed.GetAwaiter().GetResult().Records?.Dispose();
        }
        catch (InvalidOperationException)
        {
            // Dropped with the chunk; the batch would have failed the run only when handed out.
        }
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
        DropAhead();
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
            if (_rebalanced)
            {
                // What was gathered is dropped with the run: the partitions may be another worker's now.
                _messages.Clear();
                throw new KafkaRebalanceException(_given is null
                    ? $"Consumer group {_group} revoked this worker's partitions of Kafka topic '{_source.Topic}' (a worker joined or left)."
                    : $"Consumer group {_group} assigned this worker partitions [{string.Join(", ", _given)}] of Kafka topic '{_source.Topic}'.");
            }
            if (result is null)
                continue;
            if (_messages.Count == 0)
                first = Stopwatch.GetTimestamp();
            _messages.Add((result.Partition.Value, result.Offset.Value, result.Message.Value));
            if (_messages.Count >= MaxChunkRecords || _buffer.Length >= MaxChunkBytes)
                break;
        }
        _messages.Sort(static (a, b) => a.Partition != b.Partition ? a.Partition.CompareTo(b.Partition) : a.Offset.CompareTo(b.Offset));
        foreach (int p in _assigned)
        {
            // librdkafka's own copy from the last fetch: no request to the broker.
            long high = _consumer.GetWatermarkOffsets(new TopicPartition(_source.Topic, p)).High.Value;
            if (high >= 0)
                _high[p] = high;
        }
        return _messages.Count > 0;
    }

    /// <summary>Makes the partitions' positions and high watermarks readable from other threads (the API, /metrics).</summary>
    private void PublishLag()
    {
        var lag = new KafkaPartitionLag[_assigned.Length];
        for (int i = 0; i < lag.Length; i++)
        {
            int p = _assigned[i];
            lag[i] = new KafkaPartitionLag(p, _next[p], _high[p]);
        }
        Volatile.Write(ref _lag, lag);
    }

    /// <summary>Messages [from, to) of one partition as a batch of the stream's schema, by parser <paramref name="set"/>;
    /// those that do not fit are skipped.</summary>
    private (RecordBatch? Records, long Bytes) Parse(int set, int from, int to)
    {
        var partitionBuffer = _partitionBuffers[set];
        var parser = _parsers[set];
        partitionBuffer.Clear();
        int objects = 0;
        for (int i = from; i < to; i++)
        {
            var m = _messages[i];
            if (m.Slice.Shape == MessageShape.Object)
            {
                partitionBuffer.Append(_buffer.Slice(m.Slice));
                objects++;
            }
            else
                Skip(m.Partition, m.Offset, m.Slice.Shape == MessageShape.TooLarge
                    ? _source.Lines
                        ? $"the message is {m.Slice.Length} bytes, over the maximum ndjson message size of {Math.Max(_maxRecordBytes, KafkaSourceDefinition.MaxMessageBytes)} bytes"
                        : $"the message is {m.Slice.Length} bytes, over the maximum record size of {_maxRecordBytes} bytes"
                    : _source.Lines ? "the message is not JSON objects, one per line" : "the message is not one JSON object");
        }
        long bytes = partitionBuffer.Length;
        if (objects == 0)
            return (null, bytes);
        // A message of the json format is one record; of the ndjson format, as many as it has lines.
        if (parser.Parse(partitionBuffer.Span, _maxRecordBytes) == ParseOutcome.Accepted && (_source.Lines || parser.RecordCount == objects))
            return (parser.Build(_stream.Definition.ArrowSchema), bytes);
        // Some do not fit: each alone, keeping the rest (another producer's messages; ours were checked when posted).
        // An ndjson message is kept or skipped whole: its offset is the position of all its records.
        var kept = new MessageBuffer(_maxRecordBytes);
        int valid = 0;
        for (int i = from; i < to; i++)
        {
            var m = _messages[i];
            if (m.Slice.Shape != MessageShape.Object)
                continue;
            var alone = parser.Parse(_buffer.Slice(m.Slice), _maxRecordBytes);
            if (alone == ParseOutcome.Accepted && (_source.Lines || parser.RecordCount == 1))
            {
                kept.Append(_buffer.Slice(m.Slice));
                valid += parser.RecordCount;
            }
            else
                Skip(m.Partition, m.Offset, parser.Error ?? parser.Problems.FirstOrDefault()?.Reason ?? "the message holds more than one JSON value");
        }
        if (valid == 0)
            return (null, bytes);
        if (parser.Parse(kept.Span, _maxRecordBytes) != ParseOutcome.Accepted || parser.RecordCount != valid)
            throw new InvalidOperationException($"Messages that parse one by one failed to parse together: {parser.Error ?? parser.Problems.FirstOrDefault()?.Reason}.");
        return (parser.Build(_stream.Definition.ArrowSchema), bytes);
    }

    private void Skip(int partition, long offset, string reason)
    {
        Interlocked.Increment(ref _invalid);
        _lines.Log("SKIPPED", $"Stream {_stream.Name}: skipped the message at partition {partition} offset {offset} of topic '{_source.Topic}': {reason}");
    }

    /// <summary>Per partition, the offsets every sink has committed (the least), for the group's lag in Kafka's tools.</summary>
    public void StorePositions(long[] committed)
    {
        foreach (int p in _assigned)
        {
            if (committed[p] < 0)
                continue;
            try { _consumer.StoreOffset(new TopicPartitionOffset(_source.Topic, p, committed[p])); }
            catch (KafkaException) { } // only monitoring depends on it
        }
    }

    /// <summary>The high watermark now of each partition this worker reads (the offset after its last acknowledged
    /// message; indexed by partition, 0 for the others).</summary>
    public long[] HighWatermarks()
    {
        var highs = new long[_next.Length];
        foreach (int p in _assigned)
            highs[p] = Watermarks.QueryWatermarkOffsets(new TopicPartition(_source.Topic, p), BrokerTimeout).High.Value;
        return highs;
    }

    private IConsumer<Ignore, Ignore> Watermarks => _watermarks ??= new ConsumerBuilder<Ignore, Ignore>(_source.ConsumerConfig(_stream.Name))
        .SetLogHandler((_, _) => { }) // the reading consumer logs what matters about the broker
        .SetErrorHandler((_, _) => { })
        .Build();

    /// <summary>Leaves the group (its partitions go to the other workers at once rather than after the session timeout),
    /// bounded: a close that hangs (a rebalance under way) is left to the session timeout.</summary>
    public void Dispose()
    {
        DropAhead();
        _current?.Dispose();
        var closing = Task.Run(() =>
        {
            try { _consumer.Close(); } catch (KafkaException) { } // commits the stored positions
        });
        if (closing.Wait(CloseTimeout))
            _consumer.Dispose();
        else
            _logger.LogWarning("Stream {Stream}: leaving consumer group of Kafka topic '{Topic}' did not finish within {Seconds} s; the broker ends this worker's session after its timeout",
                _stream.Name, _source.Topic, CloseTimeout.TotalSeconds);
        _watermarks?.Dispose(); // never subscribed: no group to leave
        _lines.Flush(stopping: true);
    }

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);
}

/// <summary>A partition a worker reads: the next offset it reads, the high watermark last seen (-1: none yet), and the lag between.</summary>
internal readonly record struct KafkaPartitionLag(int Partition, long NextOffset, long HighWatermark)
{
    public long? Lag => HighWatermark < 0 ? null : Math.Max(0, HighWatermark - NextOffset);
}

/// <summary>The consumer group moved partitions (a worker joined, left or died): the run starts over from the table with the worker's new share.</summary>
internal sealed class KafkaRebalanceException(string message) : Exception(message);

/// <summary>Messages [FirstOffset, EndOffset) of one partition; Records null when none fit the schema.</summary>
internal readonly record struct KafkaStreamBatch(int Partition, long FirstOffset, long EndOffset, int Messages, RecordBatch? Records, long Bytes);
