using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace DataPlane.Slurper.Kafka;

/// <summary>Client configurations: our defaults first, then the user's librdkafka settings on top, so a broker that
/// needs special settings (a 0.9 broker: api.version.request=false, broker.version.fallback=0.9.0.1) gets them from configuration.</summary>
internal static class KafkaClients
{
    public static ProducerConfig Producer(KafkaSettings kafka)
    {
        var config = new ProducerConfig { BootstrapServers = kafka.BootstrapServers, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 120_000 };
        foreach (var (k, v) in kafka.Config) config.Set(k, v);
        return config;
    }

    public static ConsumerConfig Consumer(KafkaSettings kafka, string groupId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Within the 30 s maximum of older brokers; librdkafka's 45 s default is refused by 0.9.
            SessionTimeoutMs = 10_000,
            TopicMetadataRefreshIntervalMs = 5_000,
        };
        foreach (var (k, v) in kafka.Config) config.Set(k, v);
        return config;
    }

    public static AdminClientConfig Admin(KafkaSettings kafka)
    {
        var config = new AdminClientConfig { BootstrapServers = kafka.BootstrapServers };
        foreach (var (k, v) in kafka.Config) config.Set(k, v);
        return config;
    }

    /// <summary>librdkafka logs (deprecation warnings for old brokers among them) go to the given writer only when they matter.</summary>
    public static void Log(TextWriter output, LogMessage m)
    {
        if (m.Level <= SyslogLevel.Error) output.WriteLine($"kafka {m.Level}: {m.Facility} {m.Message}");
    }

    /// <summary>
    /// Creates the job's topics with the partition counts the job wants (CreateTopics), rather than relying on the broker
    /// to auto-create them with its default count. A topic that already exists is used as it is (a worker's metadata
    /// request may have auto-created it first). Kafka 0.9 has no CreateTopics API (it came with 0.10.1): against such a
    /// broker, or when the request fails, the topics are left to the broker's auto-creation, which <see cref="EnsureTopicAsync"/> triggers.
    /// </summary>
    /// <returns>False when the topics were left to auto-creation.</returns>
    public static async Task<bool> CreateTopicsAsync(IAdminClient admin, KafkaSettings kafka, IReadOnlyList<(string Topic, int Partitions)> topics,
        TextWriter output, CancellationToken ct)
    {
        if (!SupportsCreateTopics(kafka)) return false;
        ct.ThrowIfCancellationRequested();
        var brokers = admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Count;
        var specs = topics.Select(t => new TopicSpecification
        {
            Name = t.Topic,
            NumPartitions = t.Partitions,
            ReplicationFactor = (short)Math.Clamp(brokers, 1, 3),
        }).ToList();
        try
        {
            await admin.CreateTopicsAsync(specs, new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(15), OperationTimeout = TimeSpan.FromSeconds(15) });
            return true;
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            return true;
        }
        catch (KafkaException e)
        {
            output.WriteLine($"kafka: could not create topics {string.Join(", ", topics.Select(t => t.Topic))} ({e.Message}); relying on the broker's auto-creation.");
            return false;
        }
    }

    /// <summary>False for a broker configured as older than 0.10.1 (api.version.request=false with an older
    /// broker.version.fallback), which would let a CreateTopics request time out.</summary>
    internal static bool SupportsCreateTopics(KafkaSettings kafka)
    {
        if (!kafka.Config.TryGetValue("api.version.request", out var probe) || !probe.Equals("false", StringComparison.OrdinalIgnoreCase))
            return true;
        var fallback = kafka.Config.TryGetValue("broker.version.fallback", out var v) ? v : "0.10.0";
        return Version.TryParse(fallback, out var version) && version >= new Version(0, 10, 1);
    }

    /// <summary>Asks for the topic's metadata, which makes a broker with auto-creation create it, and waits until
    /// every partition has a leader. Returns the partition count.</summary>
    public static async Task<int> EnsureTopicAsync(IAdminClient admin, string topic, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var meta = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
                var t = meta.Topics.FirstOrDefault(x => x.Topic == topic);
                if (t is not null && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0))
                    return t.Partitions.Count;
            }
            catch (KafkaException) when (DateTime.UtcNow < deadline) { }
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"Kafka topic '{topic}' does not exist and was not auto-created; create it (kafka-topics --create) or enable auto.create.topics.enable.");
            await Task.Delay(250, ct);
        }
    }
}
