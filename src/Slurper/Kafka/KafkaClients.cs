using Confluent.Kafka;

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
