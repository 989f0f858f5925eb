namespace DataPlane.Pipelines.Log;

internal sealed record IngestLogOptions
{
    /// <summary>A segment is closed and a new one started once it would pass this size.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Above this many bytes on disk (and queued) appends are refused: ingestion answers 429 until pipelines catch up.</summary>
    public long MaxBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Payload bytes of the most recently flushed batches kept in memory, so a pipeline keeping up reads them without
    /// touching the segment files; older batches are read from disk. 0 turns the tail off.
    /// </summary>
    public long TailBytes { get; init; } = 64L * 1024 * 1024;
}
