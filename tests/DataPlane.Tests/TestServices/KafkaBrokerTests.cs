using System.Text;
using Confluent.Kafka;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Tests.TestServices;

/// <summary>The real broker the integration tests rely on: produce with acks=all, consume as a group, and resume
/// from committed offsets after the consumer is replaced.</summary>
public sealed class KafkaBrokerTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>
{
    [Fact]
    public async Task Committed_offsets_survive_a_consumer_restart()
    {
        var topic = $"smoke-{Guid.NewGuid():N}";
        var group = $"group-{Guid.NewGuid():N}";
        const int total = 200;

        using (var producer = new ProducerBuilder<string, string>(kafka.ProducerConfig()).SetLogHandler(IgnoreDeprecationWarnings).Build())
        {
            for (var i = 0; i < total; i++)
            {
                var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i % 7}", Value = $"v{i}" });
                Assert.Equal(PersistenceStatus.Persisted, result.Status);
            }
        }

        // First consumer reads half, commits, and leaves the group.
        var firstHalf = Consume(group, topic, total / 2, commit: true);
        // A new consumer in the same group continues after the committed offsets: no record twice, none lost.
        var secondHalf = Consume(group, topic, total - total / 2, commit: true);

        var seen = firstHalf.Concat(secondHalf).ToList();
        Assert.Equal(total, seen.Count);
        Assert.Equal(Enumerable.Range(0, total).Select(i => $"v{i}").Order(), seen.Order());

        // Everything is committed: a third consumer of the group finds nothing new.
        Assert.Empty(Consume(group, topic, 0, commit: false, idle: TimeSpan.FromSeconds(3)));
    }

    private List<string> Consume(string group, string topic, int count, bool commit, TimeSpan? idle = null)
    {
        var values = new List<string>();
        using var consumer = new ConsumerBuilder<string, string>(kafka.ConsumerConfig(group)).SetLogHandler(IgnoreDeprecationWarnings).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var quietUntil = idle is { } q ? DateTime.UtcNow + q + TimeSpan.FromSeconds(5) : DateTime.MaxValue;
        while (values.Count < count || (count == 0 && DateTime.UtcNow < quietUntil))
        {
            Assert.True(DateTime.UtcNow < deadline, $"consumed only {values.Count} of {count} records from {topic} within 60 s");
            var record = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (record is null || record.IsPartitionEOF) continue;
            values.Add(record.Message.Value);
            if (commit) consumer.Commit(record);
        }
        consumer.Close();
        return values;
    }

    // librdkafka warns that brokers older than 0.10 are deprecated; the 0.9 test broker is one on purpose.
    private static void IgnoreDeprecationWarnings(IClient client, LogMessage message)
    {
        if (message.Facility != "CONFWARN")
            Console.Error.WriteLine($"kafka {message.Level} {message.Facility}: {message.Message}");
    }
}
