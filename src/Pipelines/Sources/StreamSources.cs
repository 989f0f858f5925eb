using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Sources;

/// <summary>The running Kafka sources of the server's streams: started with the server and when such a stream is created, stopped before it is deleted.</summary>
internal sealed class StreamSources : IHostedService, IAsyncDisposable
{
    private readonly StreamRegistry _streams;
    private readonly PipelinesOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger<KafkaSource> _logger;
    private readonly Dictionary<string, KafkaSource> _sources = new(StringComparer.Ordinal);
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

    /// <summary>Starts the stream's source if it has one, it is not running yet, and the stream is not deleted.</summary>
    public void Start(IngestStream stream)
    {
        // Only where pipelines run (the all and worker roles) does the topic feed the local log they read.
        if (stream.Definition.Source is null || !_options.RunsPipelines)
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
        lock (_gate)
            _sources.Remove(stream, out source);
        if (source is not null)
            await source.DisposeAsync();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var stream in _streams.List())
            Start(stream);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<KafkaSource> sources;
        lock (_gate)
        {
            sources = [.. _sources.Values];
            _sources.Clear();
        }
        await Task.WhenAll(sources.Select(s => s.DisposeAsync().AsTask()));
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));
}
