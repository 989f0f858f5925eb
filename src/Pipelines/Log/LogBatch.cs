namespace DataPlane.Pipelines.Log;

/// <summary>
/// One batch read back from the log: records [FirstOffset, FirstOffset + RecordCount). The reader holds its payload
/// until <see cref="Release"/>.
/// </summary>
internal readonly record struct LogBatch(long FirstOffset, int RecordCount, LogBuffer Buffer)
{
    public long EndOffset => FirstOffset + RecordCount;

    public ReadOnlyMemory<byte> Payload => Buffer.Memory;

    public void Release() => Buffer.Release();
}
