namespace DataPlane.Storage.Log;

/// <summary>Where one record lies: its keys [FirstKey, FirstKey + KeyCount), and its payload in its segment file.</summary>
public readonly record struct LogRecord(long FirstKey, int KeyCount, string SegmentPath, long PayloadPosition, int PayloadLength)
{
    public long EndKey => FirstKey + KeyCount;
}
