using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using DataPlane.Http;

namespace DataPlane.Pipelines.Metrics;

/// <summary>
/// The instruments of streams and pipelines, on the <c>DataPlane.Pipelines</c> meter. Counts are kept here (an
/// <see cref="Interlocked"/> add on a series found by name and label key) and read by an
/// <see cref="ObservableCounter{T}"/> when scraped, so recording allocates nothing; gauges are read from their owners
/// when scraped; latencies are <see cref="Histogram{T}"/>s in seconds.
/// </summary>
internal sealed class PipelineMetrics
{
    public const string MeterName = "DataPlane.Pipelines";

    private sealed class Family
    {
        public readonly ConcurrentDictionary<string, (KeyValuePair<string, object?>[] Tags, StrongBox<long> Count)> Series = new(StringComparer.Ordinal);
    }

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, Family> _counters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram<double>> _histograms = new(StringComparer.Ordinal);

    /// <param name="meters">The host's factory; without one (unit tests) the meter is the process's, which no host exports.</param>
    public PipelineMetrics(IMeterFactory? meters = null) =>
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);

    public void Add(string name, string help, MetricLabels labels, long delta)
    {
        if (!_counters.TryGetValue(name, out var family)) family = NewCounter(name, help);
        if (!family.Series.TryGetValue(labels.Key, out var series))
            series = family.Series.GetOrAdd(labels.Key, static (_, tags) => (tags, new StrongBox<long>()), labels.Tags);
        Interlocked.Add(ref series.Count.Value, delta);
    }

    public long Get(string name, MetricLabels labels) =>
        _counters.TryGetValue(name, out var family) && family.Series.TryGetValue(labels.Key, out var series) ? Interlocked.Read(ref series.Count.Value) : 0;

    public void Observe(string name, string help, MetricLabels labels, double seconds)
    {
        if (!_histograms.TryGetValue(name, out var histogram))
            histogram = _histograms.GetOrAdd(name, static (name, state) => state.Meter.CreateHistogram(name, "s", state.Help, tags: null,
                new InstrumentAdvice<double> { HistogramBucketBoundaries = PrometheusMetrics.LatencyBuckets }), (Meter: _meter, Help: help));
        histogram.Record(seconds, labels.Tags);
    }

    public void AddGauges(string name, string help, Func<IEnumerable<(MetricLabels Labels, double Value)>> read) =>
        _meter.CreateObservableGauge(name, () => read().Select(g => new Measurement<double>(g.Value, g.Labels.Tags)), description: help);

    public static MetricLabels Labels(params (string Key, string Value)[] labels) =>
        new(string.Join('\u0001', labels.Select(l => l.Value)), [.. labels.Select(l => new KeyValuePair<string, object?>(l.Key, l.Value))]);

    private Family NewCounter(string name, string help)
    {
        lock (_counters)
        {
            if (_counters.TryGetValue(name, out var existing)) return existing;
            var family = new Family();
            _meter.CreateObservableCounter(name, () => family.Series.Values.Select(s => new Measurement<long>(Interlocked.Read(ref s.Count.Value), s.Tags)), description: help);
            _counters[name] = family;
            return family;
        }
    }
}
