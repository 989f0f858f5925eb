using System.Diagnostics;
using System.Text.Json;
using Apache.Arrow;
using Confluent.Kafka;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Streams;
using DataPlane.Storage;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// Consumes a stream's Kafka topic into the stream's ingest log, so every pipeline reads it as it reads HTTP records.
/// Messages are gathered into batches (by count, bytes and a short linger), parsed by the stream's parser, and
/// appended with the positions they reach (<see cref="KafkaSourcePositions"/>) in the same durable write. On start
/// the source seeks to the positions of the log's last batch, so a record is in the log once whatever happened to
/// the process; the consumer group's committed offsets only serve monitoring. A message that does not fit the schema
/// is counted, remembered and skipped. While the log is full the partitions are paused, and resumed once it has room.
/// </summary>
internal sealed class KafkaSource : IAsyncDisposable
{
    private const int MaxBatchRecords = 50_000;
    private const int MaxBatchBytes = 4 * 1024 * 1024;
    private const int MaxErrorsKept = 20;
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MetadataRefresh = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FullLogRetry = TimeSpan.FromMilliseconds(200);
    /// <summary>Waits between failed runs: from half a second, doubling to 30 s, jittered so that the sources of a broker
    /// that went away do not all reconnect at once. Never exhausted: the source runs until stopped.</summary>
    private static readonly RetryPolicy Restart = new() { MaxAttempts = int.MaxValue, BaseDelay = TimeSpan.FromMilliseconds(500), MaxDelay = TimeSpan.FromSeconds(30) };

    private readonly IngestStream _stream;
    private readonly KafkaSourceDefinition _source;
    private readonly PipelinesOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly RepeatedLogLines _kafkaLines;
    private readonly MetricLabels _labels;
    private readonly int _maxBatchBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly MessageBuffer _buffer;
    private readonly MessageBuffer _accepted;
    // Two payloads: the next batch is consumed and parsed into one while the log still writes the other.
    private readonly MemoryStream[] _payloads = [new(), new()];
    private int _payloadIndex;
    private Task? _appending;
    private int _appendingRecords;
    private long[] _appendingPositions = [];
    private long[] _storedPositions = [];
    private readonly List<(int Partition, long Offset, MessageSlice Slice)> _messages = [];
    // The partitions of the batch's accepted records, as runs in their order (KafkaSourcePartitions).
    private readonly List<(int Partition, int Count)> _runs = [];
    private readonly Queue<SourceError> _errors = new();
    private Task _run = Task.CompletedTask;
    private long[] _next = [];
    private long[] _high = [];
    private int _partitions;
    private long _recordsIn;
    private long _invalid;
    private int _disposed;

    /// <param name="time">The clock of the held-back log lines' minute (<see cref="RepeatedLogLines"/>).</param>
    public KafkaSource(IngestStream stream, PipelinesOptions options, PipelineMetrics metrics, ILogger logger, TimeProvider? time = null)
    {
        _stream = stream;
        _source = stream.Definition.Source ?? throw new ArgumentException($"Stream '{stream.Name}' has no Kafka source.");
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _kafkaLines = new RepeatedLogLines(logger, stream.Name, time ?? TimeProvider.System);
        _labels = PipelineMetrics.Labels(("stream", stream.Name));
        // A batch must fit a log with room for several: one larger than the log's bound would wait forever.
        _maxBatchBytes = (int)Math.Clamp(options.MaxLogBytes / 8, 1, MaxBatchBytes);
        _buffer = new MessageBuffer(options.MaxRecordBytes);
        _accepted = new MessageBuffer(options.MaxRecordBytes);
    }

    public string StreamName => _stream.Name;
    /// <summary>starting, running, paused (the log is full), failed (retrying), stopped.</summary>
    public string State { get; private set; } = "starting";
    public string? LastError { get; private set; }
    public DateTimeOffset? LastErrorAt { get; private set; }
    public long RecordsIn => Interlocked.Read(ref _recordsIn);
    public long InvalidRecords => Interlocked.Read(ref _invalid);

    public IReadOnlyList<SourceError> RecentErrors()
    {
        lock (_errors)
            return [.. _errors];
    }

    /// <summary>Per partition: the next offset to consume and the high watermark last seen (-1 when not known yet).</summary>
    public IReadOnlyList<(int Partition, long Next, long High)> Partitions()
    {
        var next = Volatile.Read(ref _next);
        var high = Volatile.Read(ref _high);
        int count = Math.Min(Volatile.Read(ref _partitions), Math.Min(next.Length, high.Length));
        var list = new List<(int, long, long)>(count);
        for (int p = 0; p < count; p++)
            list.Add((p, Volatile.Read(ref next[p]), Volatile.Read(ref high[p])));
        return list;
    }

    public void Start() => _run = Task.Factory.StartNew(() => Run(_stop.Token), CancellationToken.None,
        TaskCreationOptions.LongRunning, TaskScheduler.Default); // Consume blocks: a thread of its own, not a pool thread

    private void Run(CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                RunOnce(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                State = "failed";
                NoteError(e.Message);
                _metrics.Add("dataplane_stream_source_errors_total", "Kafka source runs that failed and restarted from the log's positions.", _labels, 1);
                var delay = Restart.DelayAfter(++failures);
                _logger.LogError(e, "Stream {Stream}: the Kafka source failed; restarting from the positions in its ingest log in {Delay}", _stream.Name, delay);
                if (cancellationToken.WaitHandle.WaitOne(delay))
                    break;
            }
        }
        _kafkaLines.Flush(stopping: true);
        State = "stopped";
    }

    private void RunOnce(CancellationToken cancellationToken)
    {
        State = "starting";
        using var consumer = new ConsumerBuilder<Ignore, MessageSlice>(_source.ConsumerConfig(_stream.Name))
            .SetValueDeserializer(_buffer)
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((_, e) => NoteError($"Kafka: {e.Reason}"))
            .Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        try
        {
            int partitions = WaitForTopic(admin, cancellationToken);
            Assign(consumer, partitions, KafkaSourcePositions.ReadFromTail(_stream.Log, _source.Topic), resumed: true);
            State = "running";
            var refreshedAt = Stopwatch.GetTimestamp();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _kafkaLines.Flush();
                ConsumeBatch(consumer, cancellationToken);
                var (payload, records) = _messages.Count > 0 ? PrepareBatch() : (default, 0);
                CompleteAppend(consumer);
                if (records > 0)
                    StartAppend(consumer, payload, records, cancellationToken);
                UpdateWatermarks(consumer);
                if (Stopwatch.GetElapsedTime(refreshedAt) > MetadataRefresh)
                {
                    refreshedAt = Stopwatch.GetTimestamp();
                    int now = PartitionCount(admin);
                    if (now > _partitions)
                    {
                        _logger.LogInformation("Stream {Stream}: topic {Topic} grew from {Old} to {New} partitions", _stream.Name, _source.Topic, _partitions, now);
                        Assign(consumer, now, null, resumed: false);
                    }
                }
            }
        }
        finally
        {
            // The next run reuses the payload buffers: the log must be done with them. Its outcome no longer matters
            // here, as the next run starts from whatever the log holds.
            try { _appending?.Wait(CancellationToken.None); } catch (AggregateException) { }
            _appending = null;
            try { consumer.Close(); } catch (KafkaException) { } // commits the stored positions for monitoring
        }
    }

    /// <summary>Waits until the topic's metadata lists its partitions (a broker that auto-creates topics creates it then).</summary>
    private int WaitForTopic(IAdminClient admin, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _kafkaLines.Flush();
            int count = PartitionCount(admin);
            if (count > 0)
                return count;
            NoteError($"Kafka topic '{_source.Topic}' on {_source.BootstrapServers} is not available yet (it does not exist, has no leader, or the broker is unreachable); create it with kafka-topics --create.");
            if (cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)))
                cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private int PartitionCount(IAdminClient admin)
    {
        try
        {
            // Short, and retried by the caller: a stop (stream deleted, server shutting down) waits for this call.
            var topic = admin.GetMetadata(_source.Topic, TimeSpan.FromSeconds(2)).Topics.FirstOrDefault(t => t.Topic == _source.Topic);
            return topic is not null && topic.Error.Code == ErrorCode.NoError && topic.Partitions.All(p => p.Leader >= 0) ? topic.Partitions.Count : 0;
        }
        catch (KafkaException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Assigns partitions 0..count-1 at their positions: the log's when it has them; for a partition the log does not
    /// know, the beginning when the source ran before (the partition is new) or else auto.offset.reset.
    /// </summary>
    private void Assign(IConsumer<Ignore, MessageSlice> consumer, int count, Dictionary<int, long>? stored, bool resumed)
    {
        var next = new long[count];
        var high = new long[count];
        System.Array.Fill(next, -1);
        System.Array.Fill(high, -1);
        if (!resumed)
            System.Array.Copy(_next, next, _partitions); // growing: the partitions already consumed keep their positions
        bool logWithoutPositions = resumed && stored is null && _stream.Log.EndOffset > 0;
        if (logWithoutPositions)
            _logger.LogWarning("Stream {Stream}: the ingest log's last batch carries no Kafka positions; resuming from consumer group {Group}'s committed offsets", _stream.Name, _source.GroupId(_stream.Name));
        var assignment = new List<TopicPartitionOffset>(count);
        for (int p = 0; p < count; p++)
        {
            var partition = new TopicPartition(_source.Topic, p);
            if (next[p] < 0)
            {
                if (stored is not null && stored.TryGetValue(p, out long position))
                    next[p] = position;
                else
                {
                    var marks = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10));
                    long committed = logWithoutPositions ? consumer.Committed([partition], TimeSpan.FromSeconds(10))[0].Offset.Value : -1;
                    next[p] = committed >= 0 ? committed
                        : resumed && stored is null && !logWithoutPositions && _source.StartsAtEnd ? marks.High.Value
                        : marks.Low.Value;
                }
            }
            assignment.Add(new TopicPartitionOffset(partition, next[p]));
        }
        Volatile.Write(ref _next, next);
        Volatile.Write(ref _high, high);
        _storedPositions = new long[count];
        System.Array.Fill(_storedPositions, -1);
        Volatile.Write(ref _partitions, count);
        consumer.Assign(assignment);
    }

    /// <summary>Gathers messages until the batch is full or <see cref="Linger"/> has passed since its first one.</summary>
    private void ConsumeBatch(IConsumer<Ignore, MessageSlice> consumer, CancellationToken cancellationToken)
    {
        _messages.Clear();
        _buffer.Clear();
        long first = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            // Idle with a batch still being written: come back soon to count it and store its positions.
            var wait = _messages.Count > 0 ? Linger - Stopwatch.GetElapsedTime(first) : TimeSpan.FromMilliseconds(_appending is null ? 250 : 10);
            if (wait <= TimeSpan.Zero)
                return;
            var result = consumer.Consume(wait);
            if (result is null)
            {
                if (_messages.Count == 0)
                    return;
                continue;
            }
            int partition = result.Partition.Value;
            if (partition >= _next.Length)
                continue; // a partition assigned after this batch began cannot happen with manual assignment; skip defensively
            long offset = result.Offset.Value;
            _messages.Add((partition, offset, result.Message.Value));
            _next[partition] = offset + 1;
            if (_messages.Count == 1)
                first = Stopwatch.GetTimestamp();
            if (_messages.Count >= MaxBatchRecords || _buffer.Length >= _maxBatchBytes)
                return;
        }
    }

    /// <summary>Parses the consumed messages, skipping the invalid ones, into the next payload with the positions reached; (_, 0) when none is valid.</summary>
    private (ReadOnlyMemory<byte> Payload, int Records) PrepareBatch()
    {
        var parser = _stream.RentParser();
        try
        {
            int objects = 0;
            foreach (var m in _messages)
            {
                if (m.Slice.Shape == MessageShape.Object)
                    objects++;
                else
                    Skip(m.Partition, m.Offset, null, m.Slice.Shape switch
                    {
                        MessageShape.Empty => "the message has no value; each message must hold one JSON object",
                        MessageShape.TooLarge => $"the message is {m.Slice.Length} bytes, over the maximum record size of {_options.MaxRecordBytes} bytes",
                        _ => "the message is not a JSON object; each message must hold one JSON object",
                    });
            }
            int records = objects;
            _runs.Clear();
            if (objects > 0)
            {
                var outcome = parser.Parse(_buffer.Span, _options.MaxRecordBytes);
                if (outcome == ParseOutcome.Accepted && parser.RecordCount == objects)
                {
                    foreach (var m in _messages)
                        if (m.Slice.Shape == MessageShape.Object)
                            KafkaSourcePartitions.Add(_runs, m.Partition);
                }
                else
                {
                    records = KeepValid(parser, outcome, objects);
                    if (records > 0 && (parser.Parse(_accepted.Span, _options.MaxRecordBytes) != ParseOutcome.Accepted || parser.RecordCount != records))
                        throw new InvalidOperationException($"Messages that parse one by one failed to parse together: {parser.Error ?? parser.Problems.FirstOrDefault()?.Reason}.");
                }
            }
            _metrics.Add("dataplane_stream_source_messages_total", "Kafka messages the source consumed (valid or not).", _labels, _messages.Count);
            return records > 0 ? (WithPositions(parser), records) : (default, 0);
        }
        finally
        {
            _stream.ReturnParser(parser);
        }
    }

    /// <summary>
    /// Finds the messages that fail the schema, records them, and copies the others into <see cref="_accepted"/>.
    /// When the whole batch was parsed, the parser's problems name the failing records; otherwise (malformed JSON, or
    /// too many problems) each message is parsed alone.
    /// </summary>
    private int KeepValid(RecordBatchParser parser, ParseOutcome outcome, int objects)
    {
        _accepted.Clear();
        int kept = 0;
        if (outcome == ParseOutcome.Invalid && parser.RecordCount == objects && parser.Problems.Count < RecordBatchParser.MaxProblems)
        {
            var problems = parser.Problems.ToArray(); // the next Parse clears them
            int record = 0, next = 0;
            foreach (var m in _messages)
            {
                if (m.Slice.Shape != MessageShape.Object)
                    continue;
                if (next < problems.Length && problems[next].Record == record)
                {
                    Skip(m.Partition, m.Offset, problems[next].Field, problems[next].Reason);
                    while (next < problems.Length && problems[next].Record == record)
                        next++;
                }
                else
                {
                    _accepted.Append(_buffer.Slice(m.Slice));
                    KafkaSourcePartitions.Add(_runs, m.Partition);
                    kept++;
                }
                record++;
            }
            return kept;
        }
        foreach (var m in _messages)
        {
            if (m.Slice.Shape != MessageShape.Object)
                continue;
            var alone = parser.Parse(_buffer.Slice(m.Slice), _options.MaxRecordBytes);
            if (alone == ParseOutcome.Accepted && parser.RecordCount == 1)
            {
                _accepted.Append(_buffer.Slice(m.Slice));
                KafkaSourcePartitions.Add(_runs, m.Partition);
                kept++;
            }
            else if (alone == ParseOutcome.Invalid)
                Skip(m.Partition, m.Offset, parser.Problems[0].Field, parser.Problems[0].Reason);
            else if (alone == ParseOutcome.Accepted)
                Skip(m.Partition, m.Offset, null, $"the message holds {parser.RecordCount} JSON values; each message must hold one JSON object");
            else
                Skip(m.Partition, m.Offset, null, parser.Error ?? "the message is not valid JSON");
        }
        return kept;
    }

    /// <summary>The parser's batch with the positions in its schema metadata (the stream's fields unchanged), in a
    /// buffer of the source's own: the parser goes back to the stream's pool before the log append.</summary>
    private ReadOnlyMemory<byte> WithPositions(RecordBatchParser parser)
    {
        var metadata = new Dictionary<string, string>
        {
            [KafkaSourcePositions.MetadataKey] = KafkaSourcePositions.Format(_source.Topic, new ArraySegment<long>(_next, 0, _partitions)),
            [KafkaSourcePartitions.MetadataKey] = KafkaSourcePartitions.Format(_runs),
        };
        var schema = new Schema(_stream.Definition.ArrowSchema.FieldsList, metadata);
        var payload = _payloads[_payloadIndex ^= 1];
        payload.SetLength(0);
        parser.SerializeTo(payload, schema);
        return payload.GetBuffer().AsMemory(0, (int)payload.Length);
    }

    /// <summary>
    /// Waits until the batch being appended is on disk, then counts it and hands its positions to the group commit. A
    /// batch is queued only once the one before is durable: a failed write can never be followed by a later batch
    /// whose positions would claim the failed one's records.
    /// </summary>
    private void CompleteAppend(IConsumer<Ignore, MessageSlice> consumer)
    {
        if (_appending is null)
            return;
        var appending = _appending;
        _appending = null;
        appending.GetAwaiter().GetResult();
        Interlocked.Add(ref _recordsIn, _appendingRecords);
        _metrics.Add("dataplane_stream_records_in_total", "Records accepted into the stream's ingest log.", _labels, _appendingRecords);
        _metrics.Add("dataplane_stream_source_records_total", "Records the Kafka source appended to the stream's ingest log.", _labels, _appendingRecords);
        StorePositions(consumer, _appendingPositions);
    }

    /// <summary>Queues the batch on the log (see <see cref="CompleteAppend"/>); while the log is full, pauses the partitions and retries.</summary>
    private void StartAppend(IConsumer<Ignore, MessageSlice> consumer, ReadOnlyMemory<byte> payload, int records, CancellationToken cancellationToken)
    {
        bool paused = false;
        try
        {
            while (true)
            {
                try
                {
                    _appending = _stream.Log.AppendAsync(payload, records);
                    _appendingRecords = records;
                    _appendingPositions = _next[.._partitions];
                    return;
                }
                catch (IngestLogFullException e)
                {
                    if (!paused)
                    {
                        paused = true;
                        consumer.Pause(consumer.Assignment);
                        State = "paused";
                        _metrics.Add("dataplane_stream_source_pauses_total", "Times the Kafka source paused its partitions because the stream's ingest log was full.", _labels, 1);
                        _logger.LogInformation("Stream {Stream}: {Message} Kafka partitions paused until pipelines free room.", _stream.Name, e.Message);
                    }
                    if (cancellationToken.WaitHandle.WaitOne(FullLogRetry))
                        cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        finally
        {
            if (paused && !cancellationToken.IsCancellationRequested)
            {
                consumer.Resume(consumer.Assignment);
                State = "running";
            }
        }
    }

    /// <summary>Hands positions now in the log to librdkafka's auto-commit, so the group's lag shows in Kafka tools.</summary>
    private void StorePositions(IConsumer<Ignore, MessageSlice> consumer, long[] positions)
    {
        for (int p = 0; p < Math.Min(positions.Length, _storedPositions.Length); p++)
        {
            if (positions[p] < 0 || positions[p] == _storedPositions[p])
                continue;
            _storedPositions[p] = positions[p];
            try { consumer.StoreOffset(new TopicPartitionOffset(_source.Topic, p, positions[p])); }
            catch (KafkaException) { } // only monitoring depends on it
        }
    }

    private void UpdateWatermarks(IConsumer<Ignore, MessageSlice> consumer)
    {
        for (int p = 0; p < _partitions; p++)
        {
            var high = consumer.GetWatermarkOffsets(new TopicPartition(_source.Topic, p)).High;
            if (high != Offset.Unset)
                Volatile.Write(ref _high[p], high.Value);
        }
    }

    private void Skip(int partition, long offset, string? field, string reason)
    {
        Interlocked.Increment(ref _invalid);
        _metrics.Add("dataplane_stream_source_invalid_records_total", "Kafka messages the source skipped because they do not fit the stream's schema.", _labels, 1);
        lock (_errors)
        {
            if (_errors.Count == MaxErrorsKept)
                _errors.Dequeue();
            _errors.Enqueue(new SourceError(partition, offset, field, reason, DateTimeOffset.UtcNow));
        }
    }

    private void NoteError(string message)
    {
        LastError = message;
        LastErrorAt = DateTimeOffset.UtcNow;
    }

    private void Log(LogMessage m)
    {
        // librdkafka warns about every pre-0.10 broker at each start (CONFWARN); the rest that matters is warnings and worse,
        // repeats held back (an unreachable broker's FAIL comes about every 50 ms).
        if (m.Level <= SyslogLevel.Warning && m.Facility != "CONFWARN")
            _kafkaLines.Log(m.Facility, m.Message);
    }

    /// <summary>librdkafka lines held back as repeats, not logged yet.</summary>
    internal long KafkaLinesHeldBack => _kafkaLines.HeldBack;

    /// <summary>The source's state for <c>GET /api/v1/streams/{name}</c>, inside the <c>"source"</c> object.</summary>
    public void WriteStatus(Utf8JsonWriter w)
    {
        w.WriteString("state", State);
        w.WriteNumber("records_in", RecordsIn);
        w.WriteNumber("invalid_records", InvalidRecords);
        if (LastError is null) w.WriteNull("last_error"); else w.WriteString("last_error", LastError);
        if (LastErrorAt is { } at) w.WriteString("last_error_at", at); else w.WriteNull("last_error_at");
        w.WriteStartArray("partitions");
        foreach (var (partition, next, high) in Partitions())
        {
            w.WriteStartObject();
            w.WriteNumber("partition", partition);
            w.WriteNumber("next_offset", next);
            if (high >= 0) w.WriteNumber("high_watermark", high); else w.WriteNull("high_watermark");
            if (high >= 0) w.WriteNumber("lag", Math.Max(0, high - next)); else w.WriteNull("lag");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("recent_errors");
        foreach (var e in RecentErrors())
        {
            w.WriteStartObject();
            w.WriteNumber("partition", e.Partition);
            w.WriteNumber("offset", e.Offset);
            if (e.Field is null) w.WriteNull("field"); else w.WriteString("field", e.Field);
            w.WriteString("reason", e.Reason);
            w.WriteString("at", e.At);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stop.Cancel();
        try { await _run; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
