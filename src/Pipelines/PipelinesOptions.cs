namespace DataPlane.Pipelines;

/// <summary>Settings of streams, sinks and pipelines (bound from the <c>Pipelines</c> configuration section).</summary>
public sealed class PipelinesOptions
{
    /// <summary>Where stream definitions, ingest logs, sinks and pipelines are kept (<c>&lt;data&gt;/pipelines</c>).</summary>
    public string Directory { get; set; } = Path.Combine("data", "pipelines");
    /// <summary>Largest request body accepted, after gzip decompression.</summary>
    public int MaxRequestBytes { get; set; } = 1024 * 1024;
    /// <summary>Largest single record accepted.</summary>
    public int MaxRecordBytes { get; set; } = 256 * 1024;
    /// <summary>Per-stream bound on the ingest log; past it ingestion answers 429 until pipelines catch up.</summary>
    public long MaxLogBytes { get; set; } = 1024L * 1024 * 1024;
    public long SegmentBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>
    /// Per-stream bound on the recently acknowledged batches kept in memory for pipelines that keep up (they skip
    /// re-reading the log files); 0 turns it off. The log on disk stays the source of truth.
    /// </summary>
    public long LogTailBytes { get; set; } = 64L * 1024 * 1024;
    /// <summary>What 429 answers put in Retry-After.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
