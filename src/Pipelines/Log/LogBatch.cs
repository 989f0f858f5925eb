namespace DataPlane.Pipelines.Log;

/// <summary>One batch read back from the log: records [FirstOffset, FirstOffset + RecordCount).</summary>
internal readonly record struct LogBatch(long FirstOffset, int RecordCount, ReadOnlyMemory<byte> Payload)
{
    public long EndOffset => FirstOffset + RecordCount;
}
