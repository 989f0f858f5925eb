namespace DataPlane.Pipelines.Ingest;

/// <summary>Why one record of a request was refused; <see cref="Field"/> is null when the record as a whole is wrong.</summary>
internal sealed record IngestProblem(int Record, string? Field, string Reason);
