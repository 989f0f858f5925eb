namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// A checkpoint of a statement's operator state: where it is (the location its commit names), its size, the stream
/// offset it stands at, and how long writing it took (zero for one restored at start).
/// </summary>
internal sealed record SinkCheckpoint(string Location, long Bytes, long EndOffset, TimeSpan Duration, DateTimeOffset At, bool Restored);
