using System.Text.Json;

namespace DataPlane.Slurper.Kafka;

/// <summary>What the job's spec topic carries: first the job (locations and endpoints, never credentials: each worker
/// brings its own), then, once every object is published, a completion record with the count.</summary>
internal sealed record KafkaJobSpec(
    string Kind,
    string Source,
    string? SourceEndpoint,
    string Destination,
    string? DestinationEndpoint,
    bool SkipExisting,
    long MultipartThreshold,
    long PartSize,
    long Objects)
{
    public const string SpecKind = "spec";
    public const string CompleteKind = "complete";

    public string ToJson() => JsonSerializer.Serialize(this);

    public static KafkaJobSpec FromJson(string json) =>
        JsonSerializer.Deserialize<KafkaJobSpec>(json) ?? throw new InvalidDataException($"Not a slurp job spec: {json}");
}
