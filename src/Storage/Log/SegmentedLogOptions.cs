namespace DataPlane.Storage.Log;

public sealed record SegmentedLogOptions
{
    /// <summary>The segment files' extension; a segment is named by its first key, 20 digits.</summary>
    public required string Extension { get; init; }

    /// <summary>A segment is closed and the next one started before a record would take it past this size.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Writes each new segment whole with zeros first, so that appends overwrite allocated blocks and a data sync writes
    /// no file size (as SQLite's reused WAL does): the cheapest sync per record, at the price of writing the segment twice.
    /// A torn tail is then zeroed on open instead of cut off.
    /// </summary>
    public bool Preallocate { get; init; }

    /// <summary>Each commit is made durable (fdatasync) before it returns; off, durability is left to the OS.</summary>
    public bool Sync { get; init; } = true;

    /// <summary>Keys follow each other without gaps (the next record starts where the last ended); else they only increase.</summary>
    public bool ContiguousKeys { get; init; }

    /// <summary>Keeps an in-memory index of every record (24 bytes each) so a reader can seek to any key without scanning.</summary>
    public bool IndexRecords { get; init; }

    /// <summary>
    /// Releasing never deletes the segment holding the log's last record (while the segment after it has none yet): a
    /// log whose last record carries state a writer resumes from keeps it.
    /// </summary>
    public bool KeepLastRecord { get; init; }
}
