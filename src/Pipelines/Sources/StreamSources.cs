using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>
/// The running Kafka sources of the server's streams: started with the server and when such a stream is created, stopped
/// before it is deleted. A Kafka-backed stream (<c>"produce": true</c>) has no source but a producer, made at its first
/// request and closed with the stream.
/// </summary>
internal sealed class StreamSources : IHostedService, IAsyncDisposable
{
    private readonly StreamRegistry _streams;
    private readonly PipelinesOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger<KafkaSource> _logger;
    private readonly Dictionary<string, KafkaSource> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<IngestStream, KafkaStreamProducer> _producers = [];
    private readonly object _gate = new();

    public StreamSources(StreamRegistry streams, PipelinesOptions options, PipelineMetrics metrics, ILogger<KafkaSource> logger)
    {
        _streams = streams;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        metrics.AddGauges("dataplane_stream_source_lag_records", "Messages in the Kafka partition past the source's position (from the last high watermark seen).",
            () => List().SelectMany(s => s.Partitions().Where(p => p.High >= 0).Select(p =>
                (PipelineMetrics.Labels(("stream", s.StreamName), ("partition", p.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture))), (double)Math.Max(0, p.High - p.Next)))));
        metrics.AddGauges("dataplane_stream_source_paused", "1 while the Kafka source is paused because the stream's ingest log is full.",
            () => List().Select(s => (PipelineMetrics.Labels(("stream", s.StreamName)), s.State == "paused" ? 1.0 : 0.0)));
        metrics.AddGauges("dataplane_stream_source_last_invalid_timestamp_seconds", "When the Kafka source last skipped a message that does not fit the schema (Unix time).",
            () => List().Select(s => (s.StreamName, s.RecentErrors())).Where(e => e.Item2.Count > 0)
                .Select(e => (PipelineMetrics.Labels(("stream", e.StreamName)), (double)e.Item2[^1].At.ToUnixTimeSeconds())));
    }

    public IReadOnlyList<KafkaSource> List()
    {
        lock (_gate)
            return [.. _sources.Values];
    }

    public KafkaSource? Find(string stream)
    {
        lock (_gate)
            return _sources.GetValueOrDefault(stream);
    }

    /// <summary>The producer of a Kafka-backed stream, made at the first call; null once the stream is deleted.</summary>
    public KafkaStreamProducer? Producer(IngestStream stream)
    {
        lock (_gate)
        {
            if (_producers.TryGetValue(stream, out var producer))
                return producer;
            if (_streams.Find(stream.Name) != stream)
                return null;
            producer = new KafkaStreamProducer(stream.Definition, _logger);
            _producers[stream] = producer;
            return producer;
        }
    }

    /// <summary>Starts the stream's source if it has one, it is not running yet, and the stream is not deleted.</summary>
    public void Start(IngestStream stream)
    {
        // Only where pipelines run (the all and worker roles) does the topic feed the local log they read.
        if (stream.Definition.Source is null || stream.Definition.KafkaBacked || !_options.RunsPipelines)
            return;
        lock (_gate)
        {
            // A delete takes the stream out of the registry before it stops the source (under this lock): a stream deleted
            // since its create returned gets no source, which would consume into its closed log and hold its name here.
            if (_sources.ContainsKey(stream.Name) || _streams.Find(stream.Name) != stream)
                return;
            var source = new KafkaSource(stream, _options, _metrics, _logger);
            _sources[stream.Name] = source;
            source.Start();
        }
    }

    public async Task StopAsync(string stream)
    {
        KafkaSource? source;
        List<KafkaStreamProducer> producers;
        lock (_gate)
        {
            _sources.Remove(stream, out source);
            producers = TakeProducers(s => s.Name == stream);
        }
        if (source is not null)
            await source.DisposeAsync();
        await DisposeAsync(producers);
    }

    private List<KafkaStreamProducer> TakeProducers(Func<IngestStream, bool> which)
    {
        var taken = _producers.Where(p => which(p.Key)).ToList();
        foreach (var p in taken)
            _producers.Remove(p.Key);
        return [.. taken.Select(p => p.Value)];
    }

    // Closing a producer waits for what it has in flight (bounded): off the caller's thread.
    private static Task DisposeAsync(List<KafkaStreamProducer> producers) =>
        producers.Count == 0 ? Task.CompletedTask : Task.Run(() => producers.ForEach(p => p.Dispose()));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var stream in _streams.List())
            Start(stream);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<KafkaSource> sources;
        List<KafkaStreamProducer> producers;
        lock (_gate)
        {
            sources = [.. _sources.Values];
            _sources.Clear();
            producers = TakeProducers(_ => true);
        }
        await Task.WhenAll(sources.Select(s => s.DisposeAsync().AsTask()).Append(DisposeAsync(producers)));
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));
}
