namespace DataPlane.Pipelines.Log;

/// <summary>The log has reached its size bound; the client should retry once pipelines have committed and segments are freed.</summary>
internal sealed class IngestLogFullException(long sizeBytes, long maxBytes)
    : Exception($"The stream's ingest log holds {sizeBytes} bytes, at its bound of {maxBytes} bytes; retry once pipelines have caught up.")
{
    public long SizeBytes { get; } = sizeBytes;
    public long MaxBytes { get; } = maxBytes;
}
