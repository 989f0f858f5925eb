namespace DataPlane.Slurper;

/// <summary>How to reach Kafka for the distributed queue. <see cref="Config"/> passes librdkafka settings through
/// unchanged (e.g. <c>api.version.request=false</c> and <c>broker.version.fallback=0.9.0.1</c> for a 0.9 broker).</summary>
public sealed record KafkaSettings(string BootstrapServers)
{
    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();

    public static string TopicFor(string jobId) => "dataplane.slurp." + jobId;
    public static string SpecTopicFor(string jobId) => "dataplane.slurp." + jobId + ".spec";
    public static string GroupFor(string jobId) => "dataplane.slurp." + jobId;

    /// <summary>Parses <c>key=value</c> pairs as given on the command line.</summary>
    public static Dictionary<string, string> ParseConfig(IEnumerable<string> pairs)
    {
        var config = new Dictionary<string, string>();
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--kafka-config '{pair}' is not key=value (e.g. api.version.request=false).");
            config[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return config;
    }
}
