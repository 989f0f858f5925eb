using System.Buffers.Text;
using Apache.Arrow;
using Confluent.Kafka;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// Produces the records of <c>POST /streams/{name}</c> to a Kafka-backed stream's topic: one message per record, its
/// value the record's JSON object as sent, its key the stream's key field as UTF-8 text (a number as its decimal
/// digits; no key field or a null value: no key), partitioned by librdkafka's <c>murmur2_random</c>, the partitioner
/// of Kafka's Java clients. A request is answered 200 only once the broker acknowledged every record with acks=all.
/// </summary>
internal sealed class KafkaStreamProducer : IDisposable
{
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _topic;
    private readonly int _keyIndex;
    private readonly RepeatedLogLines _lines;
    private readonly TimeSpan _timeout;

    public KafkaStreamProducer(StreamDefinition stream, ILogger logger)
    {
        var source = stream.Source ?? throw new ArgumentException($"Stream '{stream.Name}' has no Kafka topic.");
        _topic = source.Topic;
        _keyIndex = stream.KeyIndex;
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
}
