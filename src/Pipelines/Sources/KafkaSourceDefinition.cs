using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// A stream's Kafka source as declared through the management API:
/// <c>{"type": "kafka", "bootstrap_servers": "...", "topic": "...", "format": "json", "config": {...}}</c>.
/// <see cref="Config"/> passes librdkafka settings through unchanged, the same shape as the Slurper's Kafka settings
/// (a 0.9 broker needs <c>api.version.request=false</c> and <c>broker.version.fallback=0.9.0.1</c>).
/// With <c>"produce": true</c> the topic is the stream's log itself: <c>POST /streams/{name}</c> produces to it and
/// pipelines consume it directly (<see cref="KafkaStreamProducer"/>, <see cref="Runtime.KafkaStreamInput"/>); without,
/// the topic is copied into the stream's local ingest log (<see cref="KafkaSource"/>). A Kafka-backed stream's messages
/// hold one record each (<c>"format": "json"</c>, what any Kafka tool expects), or with <c>"format": "ndjson"</c> up to
/// <see cref="MaxMessageBytes"/> of records of one partition, a line each: the producer then sends a request's records
/// as a few messages instead of one per record, which is most of what Kafka costs per record on both sides.
/// </summary>
internal sealed partial class KafkaSourceDefinition
{
    public const string Type = "kafka";
    public const string JsonFormat = "json";
    public const string NdjsonFormat = "ndjson";

    /// <summary>The largest <c>ndjson</c> message read (each of its records within the maximum record size), and so
    /// what a consumer buffers for one; the producer's own are smaller (<see cref="KafkaStreamProducer.MessageBytes"/>).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    public KafkaSourceDefinition(string bootstrapServers, string topic, IReadOnlyDictionary<string, string> config, bool produce = false, string format = JsonFormat)
    {
        BootstrapServers = bootstrapServers;
        Topic = topic;
        Config = config;
        Produce = produce;
        Format = format;
    }

    /// <summary><see cref="JsonFormat"/> (a message is one JSON object) or <see cref="NdjsonFormat"/> (a message is one or
    /// more JSON objects, one per line; Kafka-backed streams only).</summary>
    public string Format { get; }

    /// <summary>Whether a message may hold several records, a line each.</summary>
    public bool Lines => Format == NdjsonFormat;

    /// <summary>The topic is the stream's log: HTTP ingestion produces to it, pipelines consume it, no local copy is made.</summary>
    public bool Produce { get; }

    public string BootstrapServers { get; }
    public string Topic { get; }
    /// <summary>librdkafka settings laid over the source's defaults.</summary>
    public IReadOnlyDictionary<string, string> Config { get; }

    /// <summary>The consumer group the source commits its positions to, for monitoring only (the ingest log holds the positions it resumes from).</summary>
    public string GroupId(string stream) => Config.TryGetValue("group.id", out var group) ? group : "dataplane.stream." + stream;

    /// <summary>Reads the <c>"source"</c> object of a stream definition; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static KafkaSourceDefinition Parse(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("\"source\" must be an object such as {\"type\": \"kafka\", \"bootstrap_servers\": \"127.0.0.1:9092\", \"topic\": \"clicks\"}; leave it out for a stream fed over HTTP.");
        string? type = String(json, "type");
        if (type != Type)
            throw new ArgumentException($"Source type '{type}' is not supported; the one source type is \"kafka\" (leave \"source\" out for a stream fed over HTTP).");
        string? servers = String(json, "bootstrap_servers");
        if (string.IsNullOrWhiteSpace(servers))
            throw new ArgumentException("The Kafka source needs \"bootstrap_servers\", e.g. \"127.0.0.1:9092\" (comma-separated host:port pairs).");
        string? topic = String(json, "topic");
        if (topic is null || !TopicName().IsMatch(topic) || topic is "." or "..")
            throw new ArgumentException($"The Kafka source's topic '{topic}' is not a valid Kafka topic name: 1 to 249 characters of a-z, A-Z, 0-9, '.', '_' and '-'.");
        string format = String(json, "format") ?? JsonFormat;
        if (format is not (JsonFormat or NdjsonFormat))
            throw new ArgumentException($"The Kafka source's format '{format}' is not supported; use \"json\" (one JSON object per message) or, for a Kafka-backed stream, \"ndjson\" (JSON objects one per line, several records per message).");
        var config = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (json.TryGetProperty("config", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (c.ValueKind != JsonValueKind.Object)
                throw new ArgumentException("The Kafka source's \"config\" must be an object of librdkafka settings, e.g. {\"api.version.request\": \"false\"}.");
            foreach (var p in c.EnumerateObject())
                config[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                    _ => throw new ArgumentException($"Kafka setting '{p.Name}' has the value {p.Value.GetRawText()}; settings are strings, numbers or booleans."),
                };
        }
        bool produce = false;
        if (json.TryGetProperty("produce", out var pr) && pr.ValueKind != JsonValueKind.Null)
            produce = pr.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ArgumentException($"The Kafka source's \"produce\" is {pr.GetRawText()}; it is true (the topic is the stream's log, fed by POST /streams/NAME) or false."),
            };
        if (format == NdjsonFormat && !produce)
            throw new ArgumentException("The Kafka source's format \"ndjson\" is for a Kafka-backed stream (\"produce\": true), whose messages DataPlane writes itself; a topic copied into the stream's log holds one JSON object per message (\"json\").");
        return new KafkaSourceDefinition(servers.Trim(), topic, config, produce, format);
    }

    /// <summary>Builds (and drops) a consumer so librdkafka refuses settings it does not know before the stream is created.</summary>
    public void Validate(string stream)
    {
        try
        {
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(ConsumerConfig(stream)).SetLogHandler((_, _) => { }).Build();
            if (Produce)
            {
                using var producer = new ProducerBuilder<byte[]?, byte[]>(ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            }
        }
        catch (Exception e) when (e is ArgumentException or KafkaException or InvalidOperationException)
        {
            throw new ArgumentException($"The Kafka source's config is not valid for librdkafka: {e.Message}");
        }
    }

    /// <summary>Our defaults first, then the user's settings on top; then the two settings the source's exactly-once depends on.</summary>
    public ConsumerConfig ConsumerConfig(string stream)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId(stream),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Positions are committed to the group only after the batch is in the log, and only for monitoring.
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 1000,
            // Within the 30 s maximum of older brokers; librdkafka's 45 s default is refused by 0.9.
            SessionTimeoutMs = 10_000,
            TopicMetadataRefreshIntervalMs = 10_000,
            // Bounds what librdkafka prefetches while the source is paused for a full log.
            QueuedMaxMessagesKbytes = 16 * 1024,
            // Once that queue is full, a partition's next fetch waits this long (librdkafka's default is 1000 ms): a reader
            // that drains 16 MB in well under a second would otherwise sit idle for the rest of it, again and again.
            FetchQueueBackoffMs = 10,
            // Partition, offset and value are all the source reads; the topic name would be a string per message.
            ConsumeResultFields = "none",
        };
        foreach (var (k, v) in Config) config.Set(k, v);
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = false;
        return config;
    }

    /// <summary>
    /// The producer of a Kafka-backed stream: the user's settings, then what a 200 promises laid over them: acks=all,
    /// keys to partitions as Kafka's Java clients do (murmur2, so keyed state follows partitions whoever produces), and
    /// the idempotent producer unless the settings say the broker is older than 0.11 (which has no producer ids).
    /// </summary>
    public ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            // A request waits for its records at most this long; then it answers 503 (a broker that is down).
            MessageTimeoutMs = 10_000,
            LingerMs = 5,
            // Only each record's status is read: the client would otherwise copy its key and value back into every report.
            DeliveryReportFields = "status",
        };
        if (Lines)
        {
            // A produce request holds at most message.max.bytes (1 MB by default: one ndjson message), and a broker answers a
            // connection's requests one at a time, each append flushed as the broker is configured: requests of several
            // messages per partition carry the same records in a fraction of the round trips.
            config.MessageMaxBytes = 16 * 1024 * 1024;
            config.BatchSize = 8 * 1024 * 1024;
        }
        foreach (var (k, v) in Config)
            if (!ConsumerOnly.Contains(k))
                config.Set(k, v);
        config.Acks = Acks.All;
        config.Partitioner = Partitioner.Murmur2Random;
        if (!Config.ContainsKey("enable.idempotence"))
            config.EnableIdempotence = !OlderThan011;
        return config;
    }

    /// <summary>The consumer settings a producer refuses or warns about, left out of <see cref="ProducerConfig"/>.</summary>
    private static readonly HashSet<string> ConsumerOnly = new(StringComparer.Ordinal)
    {
        "group.id", "auto.offset.reset", "enable.auto.commit", "auto.commit.interval.ms", "session.timeout.ms", "heartbeat.interval.ms",
        "max.poll.interval.ms", "fetch.min.bytes", "fetch.max.bytes", "fetch.wait.max.ms", "queued.max.messages.kbytes", "queued.min.messages",
        "fetch.queue.backoff.ms", "max.partition.fetch.bytes", "fetch.error.backoff.ms",
        "enable.auto.offset.store", "enable.partition.eof", "isolation.level", "partition.assignment.strategy", "group.instance.id",
    };

    /// <summary>Whether the settings name a broker before 0.11 (no ApiVersion request, fallback below 0.11).</summary>
    private bool OlderThan011 =>
        Config.TryGetValue("api.version.request", out var request) && request.Equals("false", StringComparison.OrdinalIgnoreCase)
        && Config.TryGetValue("broker.version.fallback", out var fallback) && Version.TryParse(fallback, out var version) && version < new Version(0, 11);

    /// <summary>Where a partition the log has no position for starts: librdkafka's auto.offset.reset, earliest unless configured.</summary>
    public bool StartsAtEnd =>
        Config.TryGetValue("auto.offset.reset", out var reset) && reset.ToLowerInvariant() is "latest" or "largest" or "end";

    /// <summary>Writes the definition's properties; <paramref name="redactSecrets"/> hides passwords and secrets (for API answers, not the stored file).</summary>
    public void Write(Utf8JsonWriter w, bool redactSecrets)
    {
        w.WriteString("type", Type);
        w.WriteString("bootstrap_servers", BootstrapServers);
        w.WriteString("topic", Topic);
        w.WriteString("format", Format);
        if (Produce)
            w.WriteBoolean("produce", true);
        w.WriteStartObject("config");
        foreach (var (k, v) in Config)
            w.WriteString(k, redactSecrets && (k.Contains("password", StringComparison.OrdinalIgnoreCase) || k.Contains("secret", StringComparison.OrdinalIgnoreCase)) ? "***" : v);
        w.WriteEndObject();
    }

    private static string? String(JsonElement o, string property) =>
        o.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    [GeneratedRegex(@"^[a-zA-Z0-9._-]{1,249}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TopicName();
}
