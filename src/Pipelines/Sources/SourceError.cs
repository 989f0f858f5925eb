namespace DataPlane.Pipelines.Sources;

/// <summary>One message the source skipped, and why: kept (the last few) for <c>GET /api/v1/streams/{name}</c>.</summary>
internal sealed record SourceError(int Partition, long Offset, string? Field, string Reason, DateTimeOffset At);
