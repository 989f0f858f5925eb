using Confluent.Kafka;
using Testcontainers.Kafka;
using Xunit;

namespace DataPlane.TestServices;

/// <summary>
/// A real Kafka broker for a test class or collection. Resolution order: <c>DATAPLANE_TEST_KAFKA_BOOTSTRAP</c> (a broker
/// someone else runs; <c>DATAPLANE_TEST_KAFKA_LEGACY=1</c> if it is older than 0.10); else a current broker in Docker
/// through Testcontainers.Kafka; else Apache Kafka 0.9.0.1 as a local process (scripts/test-services/kafka.sh).
/// </summary>
public class KafkaFixture : IAsyncLifetime
{
    private ServiceScript? _script;
    private KafkaContainer? _container;

    public string BootstrapServers { get; private set; } = "";

    /// <summary>True for the 0.9 broker: clients must skip the ApiVersion request and assume 0.9.0.1.</summary>
    public bool IsLegacyBroker { get; private set; }

    /// <summary>Whether the broker named by DATAPLANE_TEST_KAFKA_BOOTSTRAP (scripts/test.sh starts one for every test
    /// project) may be used; false for <see cref="OwnKafkaFixture"/>.</summary>
    protected virtual bool MayShare => true;

    public async Task InitializeAsync()
    {
        if (MayShare && Environment.GetEnvironmentVariable("DATAPLANE_TEST_KAFKA_BOOTSTRAP") is { Length: > 0 } external)
        {
            BootstrapServers = external;
            IsLegacyBroker = Environment.GetEnvironmentVariable("DATAPLANE_TEST_KAFKA_LEGACY") == "1";
        }
        else if (DockerEngine.IsAvailable)
        {
            _container = new KafkaBuilder("confluentinc/cp-kafka:7.6.1").Build();
            await _container.StartAsync();
            BootstrapServers = _container.GetBootstrapAddress();
        }
        else
        {
            _script = await ServiceScript.StartAsync("kafka.sh", TimeSpan.FromMinutes(5));
            BootstrapServers = _script.Values["KAFKA_BOOTSTRAP"];
            IsLegacyBroker = true;
        }
    }

    public async Task DisposeAsync()
    {
        if (_script is not null) await _script.DisposeAsync();
        if (_container is not null) await _container.DisposeAsync();
    }

    /// <summary>
    /// Stops the broker (the local process, or the container paused) until <see cref="StartBrokerAsync"/>: clients see a
    /// broker that is down, then the same one back with its data. Not for a broker someone else runs.
    /// </summary>
    public async Task StopBrokerAsync()
    {
        if (_script is not null)
            await _script.RunAsync("stop-broker", TimeSpan.FromSeconds(60));
        else if (_container is not null)
            await _container.PauseAsync();
        else
            throw new InvalidOperationException("DATAPLANE_TEST_KAFKA_BOOTSTRAP names a broker these tests do not run; they cannot stop it.");
    }

    public async Task StartBrokerAsync()
    {
        if (_script is not null)
            await _script.RunAsync("start-broker", TimeSpan.FromMinutes(2));
        else if (_container is not null)
            await _container.UnpauseAsync();
    }

    /// <summary>
    /// Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions and waits until each has a leader. The
    /// 0.9 broker has no CreateTopics: a metadata request auto-creates it with its num.partitions, 4
    /// (scripts/test-services/kafka.sh), which <paramref name="partitions"/> must then be.
    /// </summary>
    public async Task CreateTopicAsync(string topic, int partitions)
    {
        if (IsLegacyBroker)
        {
            using var producer = new ProducerBuilder<Null, Null>(ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.FirstOrDefault(t => t.Topic == topic) is not { } t
                   || t.Error.IsError || t.Partitions.Count != partitions || t.Partitions.Any(p => p.Leader < 0))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"topic {topic} was not created with {partitions} partitions within 60 s");
                await Task.Delay(200);
            }
            return;
        }
        using var client = new AdminClientBuilder(Apply(new AdminClientConfig())).Build();
        await client.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    public ProducerConfig ProducerConfig() => Apply(new ProducerConfig { Acks = Acks.All, LingerMs = 5 });

    public ConsumerConfig ConsumerConfig(string groupId) => Apply(new ConsumerConfig
    {
        GroupId = groupId,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoCommit = false,
        SessionTimeoutMs = 10_000,
    });

    /// <summary>Adds the bootstrap address and, for the 0.9 broker, the legacy protocol settings.</summary>
    public T Apply<T>(T config) where T : ClientConfig
    {
        config.BootstrapServers = BootstrapServers;
        if (IsLegacyBroker)
        {
            config.ApiVersionRequest = false;
            config.BrokerVersionFallback = "0.9.0.1";
        }
        return config;
    }
}

/// <summary>A broker of the test class's own, never the shared one: for tests that stop and start it, which would
/// take the shared broker away from the test classes running beside them.</summary>
public sealed class OwnKafkaFixture : KafkaFixture
{
    protected override bool MayShare => false;
}
