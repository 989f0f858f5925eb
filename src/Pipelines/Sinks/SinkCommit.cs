namespace DataPlane.Pipelines.Sinks;

/// <summary>One commit of a sink: the data files it added cover stream records [StartOffset, EndOffset).</summary>
internal sealed record SinkCommit(long Id, string Stream, long StartOffset, long EndOffset, long Records, int Files, DateTimeOffset CommittedAt);
