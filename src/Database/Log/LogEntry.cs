namespace DataPlane.Database.Log;

/// <summary>One committed write transaction: its position, commit time and encoded pieces.</summary>
internal sealed record LogEntry(long Position, long CommittedAtMicros, byte[] Payload)
{
    /// <summary>Bytes this entry takes in a record on disk or on the wire.</summary>
    public int RecordLength => LogRecordFormat.HeaderBytes + Payload.Length + LogRecordFormat.TrailerBytes;
}
