using System.Buffers;
using System.Buffers.Text;
using Apache.Arrow;
using Confluent.Kafka;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// Produces the records of <c>POST /streams/{name}</c> to a Kafka-backed stream's topic. In the <c>json</c> format, one
/// message per record, its value the record's JSON object as sent, its key the stream's key field as UTF-8 text (a
/// number as its decimal digits; no key field or a null value: no key), partitioned by librdkafka's
/// <c>murmur2_random</c>, the partitioner of Kafka's Java clients. In the <c>ndjson</c> format, the request's records
/// grouped by that same partition (<see cref="Murmur2"/>; records without a key all go to one partition, a different
/// one each message) into messages of up to <see cref="MessageBytes"/>, a record a line, without a key. A request is
/// answered 200 only once the broker acknowledged every message with acks=all.
/// </summary>
internal sealed class KafkaStreamProducer : IDisposable
{
    /// <summary>The most an ndjson message holds (a record alone may be larger, up to the maximum record size): under
    /// the one megabyte that a broker's <c>message.max.bytes</c> and a producer's own limit are by default.</summary>
    public const int MessageBytes = 900 * 1024;

    /// <summary>How long the topic's partition count is taken as known before it is asked again (partitions added to a
    /// topic move keys, as they do for any Kafka producer).</summary>
    private static readonly TimeSpan PartitionsFor = TimeSpan.FromSeconds(30);

    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _topic;
    private readonly int _keyIndex;
    private readonly bool _ndjson;
    private readonly RepeatedLogLines _lines;
    private readonly TimeSpan _timeout;
    private readonly Lock _metadataLock = new();
    private IAdminClient? _admin;
    private int _partitions;
    private long _partitionsAt;
    private int _nextPartition = Random.Shared.Next(1 << 16);

    public KafkaStreamProducer(StreamDefinition stream, ILogger logger)
    {
        var source = stream.Source ?? throw new ArgumentException($"Stream '{stream.Name}' has no Kafka topic.");
        _topic = source.Topic;
        _keyIndex = stream.KeyIndex;
        _ndjson = source.Lines;
        _lines = new RepeatedLogLines(logger, stream.Name, TimeProvider.System);
        var config = source.ProducerConfig();
        _timeout = TimeSpan.FromMilliseconds(config.MessageTimeoutMs ?? 300_000);
        _producer = new ProducerBuilder<byte[]?, byte[]>(config)
            .SetLogHandler((_, m) =>
            {
                // librdkafka warns about every pre-0.10 broker at each start (CONFWARN); repeats are held back.
                if (m.Level <= SyslogLevel.Warning && m.Facility != "CONFWARN")
                    _lines.Log(m.Facility, m.Message);
            })
            .SetErrorHandler((_, _) => { }) // each record's delivery report says what failed
            .Build();
    }

    /// <summary>
    /// Produces the records (<paramref name="spans"/> in <paramref name="body"/>; <paramref name="records"/> the parsed
    /// batch, for the keys: null for a stream without a key field) and waits for every acknowledgement; a <see cref="KafkaUnavailableException"/> when any record
    /// was not acknowledged (broker down, timed out, topic missing).
    /// </summary>
    public async Task ProduceAsync(ReadOnlyMemory<byte> body, IReadOnlyList<(int Start, int Length)> spans, RecordBatch? records)
    {
        _lines.Flush();
        if (_ndjson)
        {
            await ProduceLinesAsync(body, spans, records);
            return;
        }
        var delivery = new Delivery(spans.Count);
        var keys = _keyIndex >= 0 ? (records ?? throw new ArgumentNullException(nameof(records))).Column(_keyIndex) : null;
        int produced = 0;
        try
        {
            for (int i = 0; i < spans.Count; i++)
            {
                var (start, length) = spans[i];
                // The client takes arrays: one copy per record, as any Confluent.Kafka producer makes.
                var message = new Message<byte[]?, byte[]> { Key = keys is null ? null : Key(keys, i), Value = body.Slice(start, length).ToArray() };
                _producer.Produce(_topic, message, delivery.Report);
                produced++;
            }
        }
        catch (ProduceException<byte[]?, byte[]> e)
        {
            delivery.Fail(spans.Count - produced, e.Error.Reason); // the local queue is full, or the client is closing
        }
        catch (KafkaException e)
        {
            delivery.Fail(spans.Count - produced, e.Error.Reason);
        }
        await delivery.Done;
        if (delivery.Error is { } error)
            throw new KafkaUnavailableException(
                $"Kafka did not acknowledge {delivery.Failed} of {spans.Count} record(s) for topic '{_topic}' within {_timeout.TotalSeconds:0.#} s ({error}). " +
                "Retry the request; the records it did acknowledge may then be in the topic twice.");
    }

    /// <summary>The ndjson format: the records grouped by partition into messages of up to <see cref="MessageBytes"/>.</summary>
    private async Task ProduceLinesAsync(ReadOnlyMemory<byte> body, IReadOnlyList<(int Start, int Length)> spans, RecordBatch? records)
    {
        var keys = _keyIndex >= 0 ? (records ?? throw new ArgumentNullException(nameof(records))).Column(_keyIndex) : null;
        int partitions = Partitions();
        // Records without a key go where a message without one would: any partition, here one per request.
        int keyless = (int)((uint)Interlocked.Increment(ref _nextPartition) % (uint)partitions);
        var messages = Messages(body.Span, spans, keys, partitions, keyless);
        var delivery = new Delivery(messages.Count);
        int produced = 0;
        try
        {
            foreach (var (partition, value) in messages)
            {
                _producer.Produce(new TopicPartition(_topic, partition), new Message<byte[]?, byte[]> { Value = value }, delivery.Report);
                produced++;
            }
        }
        catch (ProduceException<byte[]?, byte[]> e)
        {
            delivery.Fail(messages.Count - produced, e.Error.Reason);
        }
        catch (KafkaException e)
        {
            delivery.Fail(messages.Count - produced, e.Error.Reason);
        }
        await delivery.Done;
        if (delivery.Error is { } error)
            throw new KafkaUnavailableException(
                $"Kafka did not acknowledge {delivery.Failed} of the {messages.Count} message(s) holding the request's {spans.Count} record(s) for topic '{_topic}' within {_timeout.TotalSeconds:0.#} s ({error}). " +
                "Retry the request; the records it did acknowledge may then be in the topic twice.");
    }

    /// <summary>The partition of a record's key, as a message with that key alone would get (null: the key is null).</summary>
    private static int? Partition(IArrowArray keys, int row, int partitions)
    {
        if (keys.IsNull(row))
            return null;
        Span<byte> digits = stackalloc byte[20];
        scoped ReadOnlySpan<byte> key;
        switch (keys)
        {
            case StringArray s:
                key = s.GetBytes(row);
                break;
            case Int64Array l:
                Utf8Formatter.TryFormat(l.GetValue(row)!.Value, digits, out int written);
                key = digits[..written];
                break;
            case Int32Array n:
                Utf8Formatter.TryFormat(n.GetValue(row)!.Value, digits, out int count);
                key = digits[..count];
                break;
            default:
                throw new InvalidOperationException($"A key of Arrow type {keys.Data.DataType.Name} is not supported.");
        }
        return Murmur2.Partition(key, partitions);
    }

    /// <summary>The topic's partition count, asked of the broker at most every <see cref="PartitionsFor"/>; a
    /// <see cref="KafkaUnavailableException"/> when it cannot be had.</summary>
    private int Partitions()
    {
        lock (_metadataLock)
        {
            if (_partitions > 0 && System.Diagnostics.Stopwatch.GetElapsedTime(_partitionsAt) < PartitionsFor)
                return _partitions;
            try
            {
                _admin ??= new DependentAdminClientBuilder(_producer.Handle).Build();
                var topic = _admin.GetMetadata(_topic, _timeout).Topics.FirstOrDefault(t => t.Topic == _topic);
                if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
                {
                    string why = topic is null ? "no metadata" : topic.Error.IsError ? topic.Error.Reason : "no partitions";
                    if (_partitions > 0)
                        return _partitions;
                    throw new KafkaUnavailableException($"Kafka gave no partitions for topic '{_topic}' ({why}). Retry the request.");
                }
                _partitions = topic.Partitions.Count;
                _partitionsAt = System.Diagnostics.Stopwatch.GetTimestamp();
                return _partitions;
            }
            catch (KafkaException e)
            {
                if (_partitions > 0)
                    return _partitions;
                throw new KafkaUnavailableException($"Kafka gave no partitions for topic '{_topic}' ({e.Error.Reason}). Retry the request.");
            }
        }
    }

    private static byte[]? Key(IArrowArray keys, int row)
    {
        if (keys.IsNull(row))
            return null;
        switch (keys)
        {
            case StringArray s:
                return s.GetBytes(row).ToArray();
            case Int64Array l:
                return Digits(l.GetValue(row)!.Value);
            case Int32Array n:
                return Digits(n.GetValue(row)!.Value);
            default:
                throw new InvalidOperationException($"A key of Arrow type {keys.Data.DataType.Name} is not supported.");
        }
    }

    private static byte[] Digits(long value)
    {
        Span<byte> text = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, text, out int written);
        return text[..written].ToArray();
    }

    public void Dispose()
    {
        // Whatever is still in flight belongs to requests that will answer 503 when their reports fail.
        _producer.Flush(TimeSpan.FromSeconds(5));
        _admin?.Dispose();
        _producer.Dispose();
        _lines.Flush(stopping: true);
    }

    /// <summary>The acknowledgements of one request's records, counted on librdkafka's delivery thread.</summary>
    private sealed class Delivery(int records)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _pending = records;
        private int _failed;

        public Task Done => Volatile.Read(ref _pending) == 0 ? Task.CompletedTask : _done.Task;
        public string? Error { get; private set; }
        public int Failed => Volatile.Read(ref _failed);

        public void Report(DeliveryReport<byte[]?, byte[]> report)
        {
            if (report.Error.IsError || report.Status != PersistenceStatus.Persisted)
            {
                Interlocked.Increment(ref _failed);
                Error ??= report.Error.IsError ? report.Error.Reason : $"delivery status {report.Status}";
            }
            Settle(1);
        }

        /// <summary>Records that were never handed to the client.</summary>
        public void Fail(int count, string reason)
        {
            Interlocked.Add(ref _failed, count);
            Error ??= reason;
            Settle(count);
        }

        private void Settle(int count)
        {
            if (Interlocked.Add(ref _pending, -count) == 0)
                _done.TrySetResult();
        }
    }

    /// <summary>
    /// The records grouped by partition (in their order within each), each group cut into messages of up to
    /// <see cref="MessageBytes"/>: every message an array of its exact size (the client sends whole arrays), written once.
    /// </summary>
    private static List<(int Partition, byte[] Value)> Messages(ReadOnlySpan<byte> body, IReadOnlyList<(int Start, int Length)> spans, IArrowArray? keys, int partitions, int keyless)
    {
        int n = spans.Count;
        var partitionOf = ArrayPool<int>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        var first = new int[partitions + 1];
        try
        {
            for (int i = 0; i < n; i++)
            {
                int partition = keys is null ? keyless : Partition(keys, i, partitions) ?? keyless;
                partitionOf[i] = partition;
                first[partition + 1]++;
            }
            for (int p = 0; p < partitions; p++)
                first[p + 1] += first[p];
            var next = first.AsSpan(0, partitions).ToArray();
            for (int i = 0; i < n; i++)
                order[next[partitionOf[i]]++] = i;

            var messages = new List<(int, byte[])>();
            for (int p = 0; p < partitions; p++)
            {
                for (int from = first[p], end = first[p + 1]; from < end;)
                {
                    int to = from + 1;
                    long bytes = spans[order[from]].Length;
                    while (to < end && bytes + 1 + spans[order[to]].Length <= MessageBytes)
                        bytes += 1 + spans[order[to++]].Length;
                    var value = GC.AllocateUninitializedArray<byte>((int)bytes);
                    int at = 0;
                    for (int r = from; r < to; r++)
                    {
                        if (r > from)
                            value[at++] = (byte)'\n';
                        var (start, length) = spans[order[r]];
                        CopyLine(body.Slice(start, length), value.AsSpan(at, length));
                        at += length;
                    }
                    messages.Add((p, value));
                    from = to;
                }
            }
            return messages;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(partitionOf);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Copies a record, its own line breaks (whitespace between its tokens: JSON strings hold none raw) made
    /// spaces, so every reader of NDJSON finds one record per line.</summary>
    private static void CopyLine(ReadOnlySpan<byte> record, Span<byte> target)
    {
        record.CopyTo(target);
        for (int at; (at = target.IndexOfAny((byte)'\n', (byte)'\r')) >= 0; target = target[(at + 1)..])
            target[at] = (byte)' ';
    }
}
