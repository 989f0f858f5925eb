using DataPlane.Storage;

namespace DataPlane.Slurper;

/// <summary>A <c>dataplane slurp worker</c>: joins the job's consumer group and copies what its partitions hold.</summary>
public sealed record SlurpWorkerOptions
{
    public required string JobId { get; init; }
    public required KafkaSettings Kafka { get; init; }
    /// <summary>Builds a side's endpoint from the location and endpoint the job was published with, adding this
    /// worker's credentials (flags, environment, profile). Arguments: side ("from"/"to"), location, published endpoint.</summary>
    public required Func<string, string, string?, StoreEndpoint> ResolveEndpoint { get; init; }
    /// <summary>This worker's journal; default <c>~/.dataplane/slurp/JOB.worker.db</c>.</summary>
    public string? JournalPath { get; init; }
    public string? ReportPath { get; init; }
    public int Concurrency { get; init; } = 64;
    public int PartConcurrency { get; init; } = 4;
    public RetryPolicy Retry { get; init; } = new();
    /// <summary>How long to wait for the job to be published before giving up.</summary>
    public TimeSpan WaitForJob { get; init; } = TimeSpan.FromMinutes(5);
    public TextWriter? Output { get; init; }
    public bool? Interactive { get; init; }
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(10);
}
