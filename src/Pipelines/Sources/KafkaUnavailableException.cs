namespace DataPlane.Pipelines.Sources;

/// <summary>The broker of a Kafka-backed stream did not acknowledge every record of a request (503, Retry-After).</summary>
internal sealed class KafkaUnavailableException(string message) : Exception(message);
