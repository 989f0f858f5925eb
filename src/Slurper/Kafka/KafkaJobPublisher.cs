using System.Collections.Concurrent;
using Confluent.Kafka;
using DataPlane.Slurper.Journal;
using DataPlane.Slurper.Listing;
using DataPlane.Storage;

namespace DataPlane.Slurper.Kafka;

/// <summary>
/// The distributed queue's producer side: lists the source (in parallel, as on the embedded queue) and publishes one
/// message per object to the job's topic, keyed by object key so the partitions spread the work; workers in one
/// consumer group share the partitions. A page is recorded in the journal only after its messages are acknowledged,
/// so a publisher restarted after a crash republishes at most the pages in flight, and never a page twice otherwise.
/// </summary>
internal static class KafkaJobPublisher
{
    public static async Task PublishAsync(string jobId, IObjectStore source, SlurpOptions options, KafkaSettings kafka,
        JobJournal journal, TextWriter output, CancellationToken ct)
    {
        var topic = KafkaSettings.TopicFor(jobId);
        var specTopic = KafkaSettings.SpecTopicFor(jobId);
        using (var admin = new AdminClientBuilder(KafkaClients.Admin(kafka)).SetLogHandler((_, m) => KafkaClients.Log(output, m)).Build())
        {
            await KafkaClients.CreateTopicsAsync(admin, kafka, [(topic, options.QueuePartitions), (specTopic, 1)], output, ct);
            var partitions = await KafkaClients.EnsureTopicAsync(admin, topic, ct);
            output.WriteLine($"Publishing job {jobId} to Kafka topic {topic} ({partitions} partitions); run `dataplane slurp worker --job {jobId}` to copy.");
        }
        using var producer = new ProducerBuilder<string, string>(KafkaClients.Producer(kafka))
            .SetLogHandler((_, m) => KafkaClients.Log(output, m)).Build();
        KafkaJobSpec Spec(string kind, long count) => new(kind, options.Source.Location, options.Source.S3?.Endpoint,
            options.Destination.Location, options.Destination.S3?.Endpoint, options.SkipExisting, options.MultipartThreshold, options.PartSize, count);
        // Partition 0 explicitly: workers read the spec from there.
        await producer.ProduceAsync(new TopicPartition(specTopic, 0), new Message<string, string> { Key = jobId, Value = Spec(KafkaJobSpec.SpecKind, 0).ToJson() }, ct);

        var classifier = new ObjectClassifier(options);
        var inFlight = new ConcurrentDictionary<string, bool>();
        long published = 0, duplicates = 0;
        if (!journal.ListingComplete)
        {
            var lister = new KeySpaceLister(source, options.ListConcurrency);
            await lister.RunAsync(async (page, token) =>
            {
                var hash = PageHash.Of(page);
                if (!inFlight.TryAdd(hash, true) || journal.IsPageKnown(hash))
                {
                    Interlocked.Increment(ref duplicates);
                    return;
                }
                var (toCopy, skipped) = classifier.Sort(page);
                var sends = new List<Task>(toCopy.Count);
                foreach (var item in toCopy)
                    sends.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = item.Key, Value = WorkMessage.Value(item.Size, item.ETag) }, token));
                await Task.WhenAll(sends);
                Interlocked.Add(ref published, sends.Count);
                journal.EnqueuePage(hash, [], skipped);
            }, ct);
            journal.MarkListingComplete();
        }
        producer.Flush(ct);
        await producer.ProduceAsync(new TopicPartition(specTopic, 0),
            new Message<string, string> { Key = jobId, Value = Spec(KafkaJobSpec.CompleteKind, published).ToJson() }, ct);
        journal.FinishRun();
        output.WriteLine($"Published {published} objects to {topic}{(duplicates > 0 ? $" ({duplicates} duplicate pages ignored)" : "")}.");
    }
}
