using Confluent.Kafka;
using DataPlane.Slurper.Kafka;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>
/// Explicit topic creation (CreateTopics, Kafka 0.10.1 and later) on a real current broker. The broker started here
/// when there is no Docker is Kafka 0.9, which has no CreateTopics API (the request times out there), so these run
/// only where <see cref="KafkaFixture"/> resolves to a current broker: Docker (Testcontainers) or an external
/// DATAPLANE_TEST_KAFKA_BOOTSTRAP without DATAPLANE_TEST_KAFKA_LEGACY=1.
/// </summary>
public class KafkaTopicCreationTests
{
    sealed class CurrentKafkaFactAttribute : FactAttribute
    {
        public CurrentKafkaFactAttribute()
        {
            var external = Environment.GetEnvironmentVariable("DATAPLANE_TEST_KAFKA_BOOTSTRAP") is { Length: > 0 };
            var current = external ? Environment.GetEnvironmentVariable("DATAPLANE_TEST_KAFKA_LEGACY") != "1" : DockerEngine.IsAvailable;
            if (!current)
                Skip = "needs a Kafka broker of 0.10.1 or later (Docker, or DATAPLANE_TEST_KAFKA_BOOTSTRAP); the local test broker is 0.9, without CreateTopics.";
        }
    }

    [CurrentKafkaFact]
    public async Task The_job_topic_is_created_with_the_partition_count_the_job_asks_for_not_the_broker_default()
    {
        var kafka = new KafkaFixture();
        await kafka.InitializeAsync();
        try
        {
            var settings = new KafkaSettings(kafka.BootstrapServers);
            using var admin = new AdminClientBuilder(KafkaClients.Admin(settings)).Build();
            var topic = KafkaSettings.TopicFor("create-" + Guid.NewGuid().ToString("N")[..8]);
            var output = new StringWriter();

            Assert.True(await KafkaClients.CreateTopicsAsync(admin, settings, [(topic, 7)], output, CancellationToken.None), output.ToString());
            Assert.Equal(7, await KafkaClients.EnsureTopicAsync(admin, topic, CancellationToken.None));
            // A second publisher of the same job finds the topic there and keeps it as it is.
            Assert.True(await KafkaClients.CreateTopicsAsync(admin, settings, [(topic, 3)], output, CancellationToken.None), output.ToString());
            Assert.Equal(7, await KafkaClients.EnsureTopicAsync(admin, topic, CancellationToken.None));
        }
        finally
        {
            await kafka.DisposeAsync();
        }
    }
}
