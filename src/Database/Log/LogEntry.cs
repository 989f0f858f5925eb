namespace DataPlane.Database.Log;

/// <summary>One committed write transaction: its position, commit time and encoded pieces.</summary>
internal sealed record LogEntry(long Position, long CommittedAtMicros, byte[] Payload)
{
    /// <summary>
    /// When this process made the entry durable (0 when read from disk or the network). Replica lag
    /// counts from here: before it, the transaction was not committed yet.
    /// </summary>
    public long DurableAtMicros { get; set; }

    /// <summary>Bytes this entry takes in a record on disk or on the wire.</summary>
    public int RecordLength => LogRecordFormat.HeaderBytes + Payload.Length + LogRecordFormat.TrailerBytes;
}
