using Confluent.Kafka;

namespace DataPlane.Slurper.Kafka;

/// <summary>Reads a job's spec topic (partition 0) from the start: the latest record tells what the job is and
/// whether its publication is complete.</summary>
internal static class SpecReader
{
    public static async Task<KafkaJobSpec> WaitForSpecAsync(string jobId, KafkaSettings kafka, TimeSpan wait, TextWriter output, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        var told = false;
        while (true)
        {
            var spec = await ReadLatestAsync(jobId, kafka, output, ct);
            if (spec is not null) return spec;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"Job '{jobId}' was not published to Kafka at {kafka.BootstrapServers} within {wait}; start it with `dataplane slurp --queue kafka --job {jobId} ...`.");
            if (!told) output.WriteLine($"Waiting for job {jobId} to be published on {kafka.BootstrapServers}...");
            told = true;
            await Task.Delay(1000, ct);
        }
    }

    public static Task<KafkaJobSpec?> ReadLatestAsync(string jobId, KafkaSettings kafka, TextWriter output, CancellationToken ct) =>
        Task.Run(() =>
        {
            var tp = new TopicPartition(KafkaSettings.SpecTopicFor(jobId), 0);
            var config = KafkaClients.Consumer(kafka, KafkaSettings.GroupFor(jobId) + ".spec-reader");
            using var consumer = new ConsumerBuilder<string, string>(config).SetLogHandler((_, m) => { }).Build();
            WatermarkOffsets marks;
            try
            {
                marks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5));
            }
            catch (KafkaException)
            {
                return null;
            }
            if (marks.High.Value <= 0) return null;
            consumer.Assign(new TopicPartitionOffset(tp, marks.Low));
            KafkaJobSpec? latest = null;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                ct.ThrowIfCancellationRequested();
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r?.Message is null) continue;
                latest = KafkaJobSpec.FromJson(r.Message.Value);
                if (r.Offset.Value + 1 >= marks.High.Value) break;
            }
            return latest;
        }, ct);
}
