using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using DataPlane.Iceberg.Catalogs;
using DataPlane.Pipelines.Api;
using DataPlane.Pipelines.Runtime;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sources;
using Microsoft.AspNetCore.Http;

namespace DataPlane.Pipelines.CatalogProcess;

/// <summary>
/// <c>POST /api/v1/pipelines/{name}/flush</c> on the catalog process, which runs no pipeline: the workers do, each over
/// what it reads. The request becomes the pipeline's next flush generation, which its <c>GET</c> answers
/// (<c>"flush_generation"</c>); each worker sees it when it next reads the definitions (<see cref="DefinitionsMirror"/>,
/// every <see cref="PipelinesOptions.DefinitionsPollSeconds"/>) and flushes its run there, which commits up to the
/// partitions' high watermarks as it asks them. Nothing has to reach the catalog process from the workers: the table
/// says when it is done. For a Kafka-backed stream the call notes each partition's high watermark at request time (at
/// or past whatever any worker had read then) and answers 200 once every sink's commits in the table's history end each
/// partition there or later, looking again as each commit lands in this process's catalog (<see cref="ICatalog.NextCommit"/>);
/// 504 when they do not within <c>timeout_seconds</c> (the request stands: workers still flush). 202 without waiting
/// when <c>timeout_seconds</c> is 0, or for a stream with a local log, which only the worker running its pipeline can see.
/// </summary>
internal sealed class FlushRequests(ICatalog catalog, PipelinesOptions options)
{
    /// <summary>How long a call waits for the workers' commits unless <c>timeout_seconds</c> says.</summary>
    public const int DefaultTimeoutSeconds = 60;
    public const int MaxTimeoutSeconds = 600;
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    // From the clock, so a catalog process that restarted (and forgot its requests) never hands out a generation a worker already acted on.
    private long _generation = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    private readonly ConcurrentDictionary<string, long> _requested = new(StringComparer.Ordinal);

    /// <summary>The pipeline's latest flush generation; null when none was asked of this process.</summary>
    public long? Requested(string pipeline) => _requested.TryGetValue(pipeline, out var g) ? g : null;

    public async Task HandleAsync(HttpContext context, PipelineRunner runner)
    {
        int timeout = DefaultTimeoutSeconds;
        if (context.Request.Query.TryGetValue("timeout_seconds", out var raw)
            && (!int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out timeout) || timeout > MaxTimeoutSeconds))
        {
            var shown = raw.ToString();
            await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status400BadRequest,
                $"\"timeout_seconds\" is how long the flush waits for the workers' commits: a whole number from 0 to {MaxTimeoutSeconds} (got '{(shown.Length <= 40 ? shown : shown[..40] + "...")}').");
            return;
        }
        string name = runner.Definition.Name;
        var stream = runner.Stream;
        long[]? low = null, high = null;
        if (stream.Definition is { KafkaBacked: true, Source: { } source })
        {
            try
            {
                (low, high) = await Task.Run(() => Watermarks(source, stream.Name), context.RequestAborted);
            }
            catch (Exception e) when (e is KafkaException or InvalidOperationException)
            {
                context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status503ServiceUnavailable,
                    $"Pipeline '{name}' was not flushed: the high watermarks of Kafka topic '{source.Topic}' on {source.BootstrapServers} could not be read ({e.Message}). Try again.");
                return;
            }
        }
        long generation = _requested[name] = Interlocked.Increment(ref _generation);
        if (high is null || timeout == 0)
        {
            await JsonResponse.WriteAsync(context.Response, StatusCodes.Status202Accepted, w =>
            {
                w.WriteStartObject();
                w.WriteNumber("generation", generation);
                w.WriteString("message", high is null
                    ? $"Stream '{stream.Name}' keeps its records in a local log on the worker that runs pipeline '{name}': the worker flushes when it next reads the definitions; its status there shows the commit."
                    : $"The workers flush pipeline '{name}' when they next read the definitions; not waited for (timeout_seconds=0).");
                w.WriteEndObject();
            });
            return;
        }

        var deadline = DateTimeOffset.UtcNow.AddSeconds(timeout);
        string topic = stream.Definition.Source!.Topic;
        while (true)
        {
            // Taken before the table is read: a worker's commit landing in between still wakes the wait below.
            var committed = catalog.NextCommit;
            var positions = await PositionsAsync(runner, topic, high.Length, context.RequestAborted);
            var behind = Behind(runner, positions, low!, high);
            if (behind.Count == 0)
            {
                await JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("generation", generation);
                    w.WriteString("topic", topic);
                    w.WriteStartArray("sinks");
                    for (int s = 0; s < runner.Sinks.Count; s++)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", runner.Sinks[s].Name);
                        if (positions[s].Snapshot is { } id) w.WriteNumber("snapshot_id", id); else w.WriteNull("snapshot_id");
                        w.WriteStartArray("partitions");
                        for (int p = 0; p < high.Length; p++)
                        {
                            w.WriteStartObject();
                            w.WriteNumber("partition", p);
                            w.WriteNumber("high_watermark", high[p]);
                            w.WriteNumber("committed", positions[s].Committed[p]);
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return;
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                await JsonResponse.ErrorAsync(context.Response, StatusCodes.Status504GatewayTimeout,
                    $"Pipeline '{name}' (flush generation {generation}) has not committed, within {timeout} s, every partition of Kafka topic '{topic}' up to its high watermark " +
                    $"at the request: {Describe(behind)}. The request stands: each worker flushes when it reads the definitions (a worker that is down does when it is back); " +
                    "GET the pipeline on the workers for their state, or flush again to wait again.");
                return;
            }
            // The workers commit through this process's catalog, which says when a commit lands; a catalog that cannot
            // (or a commit made around it, by a process writing the same catalog files) is looked at again after Poll.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            var poll = Task.Delay(Poll, wait.Token);
            await (committed is null ? poll : Task.WhenAny(committed, poll));
            wait.Cancel();
            context.RequestAborted.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Per sink of the runner: its last snapshot and where its commits in the table's history end each partition (-1: none names it).</summary>
    private async Task<List<(long? Snapshot, long[] Committed)>> PositionsAsync(PipelineRunner runner, string topic, int partitions, CancellationToken cancellationToken)
    {
        var result = new List<(long?, long[])>(runner.Sinks.Count);
        foreach (var sink in runner.Sinks)
        {
            var committed = new long[partitions];
            Array.Fill(committed, -1);
            long? snapshot = null;
            // Loaded, never created: the workers create the table with their first commit.
            var table = await catalog.TryLoadTableAsync(new TableIdentifier([sink.Definition.Namespace!], sink.Definition.Table!), cancellationToken);
            if (table is not null && KafkaOffsets.Positions(table.Metadata, sink.Name) is { } offsets && offsets.Topic == topic)
            {
                snapshot = Iceberg.Operations.CommitHistory.LastCommit(table.Metadata, sink.Name)?.SnapshotId;
                foreach (var (partition, (_, end)) in offsets.Partitions)
                    if (partition < partitions)
                        committed[partition] = end;
            }
            result.Add((snapshot, committed));
        }
        return result;
    }

    /// <summary>The sinks' partitions not committed up to their high watermark (one holding no message, nothing to commit, is not).</summary>
    private static List<(string Sink, int Partition, long Committed, long High)> Behind(PipelineRunner runner, List<(long? Snapshot, long[] Committed)> positions, long[] low, long[] high)
    {
        var behind = new List<(string, int, long, long)>();
        for (int s = 0; s < runner.Sinks.Count; s++)
            for (int p = 0; p < high.Length; p++)
                if (high[p] > low[p] && positions[s].Committed[p] < high[p])
                    behind.Add((runner.Sinks[s].Name, p, positions[s].Committed[p], high[p]));
        return behind;
    }

    private static string Describe(List<(string Sink, int Partition, long Committed, long High)> behind)
    {
        var text = new StringBuilder();
        foreach (var (sink, partition, committed, high) in behind.Take(10))
            text.Append(text.Length == 0 ? "" : "; ").Append(CultureInfo.InvariantCulture,
                $"sink '{sink}' partition {partition} committed {(committed < 0 ? "nothing" : $"up to {committed}")} of {high}");
        return behind.Count > 10 ? text.Append(CultureInfo.InvariantCulture, $"; and {behind.Count - 10} more").ToString() : text.ToString();
    }

    /// <summary>Each partition's low and high watermark now (the high: the offset after its last acknowledged message).</summary>
    private static (long[] Low, long[] High) Watermarks(KafkaSourceDefinition source, string stream)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(source.ConsumerConfig(stream)).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(source.Topic, BrokerTimeout);
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == source.Topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
            throw new InvalidOperationException($"the topic is not available: {topic?.Error.Reason ?? "not listed"}");
        int count = topic.Partitions.Max(p => p.PartitionId) + 1;
        var low = new long[count];
        var high = new long[count];
        for (int p = 0; p < count; p++)
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(source.Topic, p), BrokerTimeout);
            low[p] = w.Low.Value;
            high[p] = w.High.Value;
        }
        return (low, high);
    }
}
