using System.Security.Cryptography;
using DataPlane.Slurper.Journal;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>The distributed queue on a real Kafka broker: `dataplane slurp --queue kafka` publishes, two
/// `dataplane slurp worker` processes in one consumer group share the job. How the group spreads the partitions is
/// the broker's and the machine's business (a fast first worker may take them all before the second joins), so the
/// test asserts what a user relies on: every object copied, once, whatever the split.</summary>
public class KafkaQueueTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>
{
    string[] KafkaArgs()
    {
        var args = new List<string> { "--kafka-brokers", kafka.BootstrapServers };
        if (kafka.IsLegacyBroker) args.AddRange(["--kafka-config", "api.version.request=false", "--kafka-config", "broker.version.fallback=0.9.0.1"]);
        return args.ToArray();
    }

    [Fact]
    public async Task Two_worker_processes_in_one_group_copy_every_object_exactly_once()
    {
        var dir = TestOptions.TempDir();
        var source = Path.Combine(dir, "src");
        var destination = Path.Combine(dir, "dst");
        var expected = new Dictionary<string, byte[]>();
        // Enough objects that a rebalance (the second worker joining, a few seconds on the 0.9 broker) may well fall inside the job.
        for (var i = 0; i < 3_000; i++)
        {
            var key = $"d{i % 10}/e{i % 7}/obj-{i:00000}";
            var data = RandomNumberGenerator.GetBytes(200 + i % 300);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, key))!);
            File.WriteAllBytes(Path.Combine(source, key), data);
            expected[key] = data;
        }
        var job = "kafka-" + Guid.NewGuid().ToString("N")[..8];

        // Workers first, so both are in the group when the work arrives.
        using var w1 = DataPlaneProcess.Start(["slurp", "worker", "--job", job, .. KafkaArgs(), "--journal", Path.Combine(dir, "w1.db"), "--concurrency", "4", "--progress", "log"]);
        using var w2 = DataPlaneProcess.Start(["slurp", "worker", "--job", job, .. KafkaArgs(), "--journal", Path.Combine(dir, "w2.db"), "--concurrency", "4", "--progress", "log"]);
        using var publisher = DataPlaneProcess.Start(["slurp", "--from", source, "--to", destination, "--job", job, "--queue", "kafka", .. KafkaArgs(),
            "--journal", Path.Combine(dir, "publisher.db"), "--progress", "log"]);
        Assert.True(await publisher.WaitAsync(TimeSpan.FromMinutes(2)) == 0, publisher.Output);
        // Both waited for together, and a failure shows both: a worker that does not end waits on the other's commits.
        var ends = await Task.WhenAll(Ended(w1), Ended(w2));
        Assert.True(ends.All(e => e.Code == 0), $"worker 1:\n{ends[0].Output}\nworker 2:\n{ends[1].Output}");

        static async Task<(int? Code, string Output)> Ended(DataPlaneProcess worker)
        {
            try
            {
                return (await worker.WaitAsync(TimeSpan.FromMinutes(3)), worker.Output);
            }
            catch (TimeoutException e)
            {
                return (null, e.Message);
            }
        }

        List<string> Copied(string journal)
        {
            using var j = JobJournal.Open(Path.Combine(dir, journal));
            return j.Entries(ObjectState.Copied).Select(e => e.Key).ToList();
        }
        var byW1 = Copied("w1.db");
        var byW2 = Copied("w2.db");
        Assert.Empty(byW1.Intersect(byW2));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), byW1.Concat(byW2).Order(StringComparer.Ordinal));
        foreach (var (key, data) in expected)
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(destination, key)));
    }
}
