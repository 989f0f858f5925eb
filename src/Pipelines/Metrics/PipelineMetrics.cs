using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace DataPlane.Pipelines.Metrics;

/// <summary>
/// The counters and histograms of streams and pipelines, rendered in the Prometheus text format. Series are keyed
/// by metric name and label values; gauges are read from their owners when scraped.
/// </summary>
internal sealed class PipelineMetrics
{
    private readonly ConcurrentDictionary<(string Name, string Labels), StrongBox<long>> _counters = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), Histogram> _histograms = new();
    private readonly ConcurrentDictionary<string, string> _help = new();
    private readonly List<Func<IEnumerable<(string Name, string Labels, double Value)>>> _gauges = [];

    public void Add(string name, string help, string labels, long delta)
    {
        _help.TryAdd(name, help);
        var box = _counters.GetOrAdd((name, labels), _ => new StrongBox<long>());
        Interlocked.Add(ref box.Value, delta);
    }

    public long Get(string name, string labels) => _counters.TryGetValue((name, labels), out var box) ? Interlocked.Read(ref box.Value) : 0;

    public void Observe(string name, string help, string labels, double seconds)
    {
        _help.TryAdd(name, help);
        _histograms.GetOrAdd((name, labels), _ => new Histogram(Histogram.LatencyBounds)).Observe(seconds);
    }

    public void AddGauges(string name, string help, Func<IEnumerable<(string Labels, double Value)>> read)
    {
        _help.TryAdd(name, help);
        lock (_gauges)
            _gauges.Add(() => read().Select(g => (name, g.Labels, g.Value)));
    }

    public static string Label(string key, string value) => $"{key}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"";

    public static string Labels(params (string Key, string Value)[] labels) => string.Join(",", labels.Select(l => Label(l.Key, l.Value)));

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var family in _counters.GroupBy(c => c.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Header(text, family.Key, "counter");
            foreach (var series in family.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
                Line(text, family.Key, series.Key.Labels, Interlocked.Read(ref series.Value.Value));
        }
        List<Func<IEnumerable<(string Name, string Labels, double Value)>>> gauges;
        lock (_gauges)
            gauges = [.. _gauges];
        foreach (var family in gauges.SelectMany(g => g()).GroupBy(g => g.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Header(text, family.Key, "gauge");
            foreach (var series in family)
                Line(text, family.Key, series.Labels, series.Value);
        }
        foreach (var family in _histograms.GroupBy(h => h.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Header(text, family.Key, "histogram");
            foreach (var series in family.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
            {
                var (cumulative, count, sum) = series.Value.Snapshot();
                string prefix = series.Key.Labels.Length > 0 ? series.Key.Labels + "," : "";
                for (int i = 0; i < cumulative.Length; i++)
                    Line(text, family.Key + "_bucket", prefix + Label("le", series.Value.Bounds[i].ToString(CultureInfo.InvariantCulture)), cumulative[i]);
                Line(text, family.Key + "_bucket", prefix + Label("le", "+Inf"), count);
                Line(text, family.Key + "_sum", series.Key.Labels, sum);
                Line(text, family.Key + "_count", series.Key.Labels, count);
            }
        }
        return text.ToString();
    }

    private void Header(StringBuilder text, string name, string type)
    {
        if (_help.TryGetValue(name, out var help))
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Line(StringBuilder text, string name, string labels, double value)
    {
        text.Append(name);
        if (labels.Length > 0)
            text.Append('{').Append(labels).Append('}');
        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
