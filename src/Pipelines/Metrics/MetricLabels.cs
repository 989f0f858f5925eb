namespace DataPlane.Pipelines.Metrics;

/// <summary>A series' labels, built once by their owner: the tags its instruments record with, and a key to find the series by.</summary>
internal sealed class MetricLabels(string key, KeyValuePair<string, object?>[] tags)
{
    public string Key { get; } = key;

    public KeyValuePair<string, object?>[] Tags { get; } = tags;
}
