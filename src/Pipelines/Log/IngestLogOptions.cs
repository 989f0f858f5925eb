namespace DataPlane.Pipelines.Log;

internal sealed record IngestLogOptions
{
    /// <summary>A segment is closed and a new one started once it would pass this size.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Above this many bytes on disk (and queued) appends are refused: ingestion answers 429 until pipelines catch up.</summary>
    public long MaxBytes { get; init; } = 1024L * 1024 * 1024;
}
