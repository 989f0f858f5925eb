using System.Buffers;
using DataPlane.Storage.Log;

namespace DataPlane.Database.Log;

/// <summary>
/// The durable, append-only record of committed transactions: a <see cref="SegmentedLog"/> of
/// <see cref="LogRecordFormat"/> records keyed by position, in preallocated segments, each append synced on its own
/// (when commits are synced). Positions are strictly increasing. Recent entries are kept in a bounded in-memory ring so
/// that replicas tailing the log never touch the disk.
/// </summary>
internal sealed class CommitLog : IDisposable
{
    private const int RingCapacity = 8192;

    private readonly SegmentedLog _log;
    private readonly long _ringBytesLimit;
    private readonly object _gate = new();
    private readonly object _appendLock = new();
    private readonly LogEntry?[] _ring = new LogEntry?[RingCapacity];
    private long _last;
    private long _ringFirst = 1;
    private long _ringLast;
    private long _ringBytes;

    public CommitLog(string directory, long floorPosition, bool syncEachAppend, long segmentBytes = 4 << 20, long ringBytes = 16 << 20)
    {
        _ringBytesLimit = ringBytes;
        // Preallocated: appends overwrite allocated blocks and the per-commit sync flushes data only, as SQLite's reused
        // WAL does, instead of growing the file.
        _log = SegmentedLog.Open(directory, new SegmentedLogOptions
        {
            Extension = ".log",
            SegmentBytes = segmentBytes,
            Preallocate = true,
            Sync = syncEachAppend,
        }, LogRecordFraming.Instance, firstKey: floorPosition + 1);
        _last = _log.EndKey - 1;
        Signal = new PositionSignal(_last);
        _ringLast = _last;
        _ringFirst = _ringLast + 1;
    }

    /// <summary>Advances after each append; replicas in this process wait on it.</summary>
    public PositionSignal Signal { get; }

    /// <summary>How many times an append was made durable, and the seconds those syncs took in all.</summary>
    public (long Count, double Seconds) Syncs => _log.Syncs;

    /// <summary>Entries after this position are all retained.</summary>
    public long FloorPosition => _log.StartKey - 1;

    public long LastPosition { get { lock (_gate) return _last; } }

    public void Append(LogEntry entry)
    {
        // Readers take only _gate, and only briefly: they must never wait for this append's sync.
        lock (_appendLock)
        {
            long last = LastPosition;
            if (entry.Position <= last)
                throw new InvalidOperationException($"Log position {entry.Position} is not after the last position {last}.");
            int length = entry.RecordLength;
            var record = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                LogRecordFormat.Encode(entry, record.AsSpan(0, length));
                _log.Add(entry.Position, 1, record.AsMemory(0, length), default);
                _log.Commit();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(record);
            }
            entry.DurableAtMicros = Primary.Clock.NowMicros();
            lock (_gate)
            {
                _last = entry.Position;
                AddToRing(entry);
            }
        }
        Signal.Advance(entry.Position);
    }

    /// <summary>Entries after <paramref name="after"/>, up to the given count and bytes (at least one).</summary>
    public List<LogEntry> ReadAfter(long after, int maxEntries, long maxBytes)
    {
        var result = new List<LogEntry>();
        long last;
        lock (_gate)
        {
            long floor = FloorPosition;
            if (after < floor) throw new LogTruncatedException(after, floor + 1);
            last = _last;
            if (after >= last) return result;
            if (after + 1 >= _ringFirst)
            {
                long bytes = 0;
                for (long p = after + 1; p <= last && result.Count < maxEntries; p++)
                {
                    var entry = _ring[p % RingCapacity]!;
                    if (result.Count > 0 && bytes + entry.RecordLength > maxBytes) break;
                    bytes += entry.RecordLength;
                    result.Add(entry);
                }
                return result;
            }
        }
        long read = 0;
        _log.Read(after + 1, (position, _, header, payload) =>
        {
            int length = header.Length + payload.Length + LogRecordFormat.TrailerBytes;
            // Only what Append has finished (a record being appended now is on disk before it is in the ring).
            if (position > last || (result.Count > 0 && (result.Count >= maxEntries || read + length > maxBytes)))
                return false;
            read += length;
            result.Add(LogRecordFormat.Decode(header, payload));
            return true;
        });
        return result;
    }

    /// <summary>Deletes whole segments holding only entries at or before <paramref name="position"/>.</summary>
    public void TruncateThrough(long position)
    {
        // Safe: our own segment files, every entry in them at or before the position the primary passes (the latest
        // snapshot's, taken from the database file that already holds them, and no live replica's applied position
        // below). Readers ask only for entries after their own applied position, so they never open these; one that passed
        // the floor check just before (a replica whose lease ran out) fails to open the file and retries into a 410.
        _log.ReleaseBefore(position + 1);
    }

    /// <summary>Starts a new segment so that everything before it can be truncated.</summary>
    public void RollIfNotEmpty()
    {
        lock (_appendLock) _log.Roll();
    }

    public void Dispose()
    {
        lock (_appendLock) _log.Dispose();
    }

    private void AddToRing(LogEntry entry)
    {
        if (entry.Position != _ringLast + 1)
        {
            Array.Clear(_ring);
            _ringFirst = entry.Position;
            _ringLast = entry.Position - 1;
            _ringBytes = 0;
        }
        if (_ringLast - _ringFirst + 1 == RingCapacity) EvictOldest();
        _ring[entry.Position % RingCapacity] = entry;
        _ringLast = entry.Position;
        _ringBytes += entry.RecordLength;
        while (_ringBytes > _ringBytesLimit && _ringFirst < _ringLast) EvictOldest();
    }

    private void EvictOldest()
    {
        long slot = _ringFirst % RingCapacity;
        _ringBytes -= _ring[slot]?.RecordLength ?? 0;
        _ring[slot] = null;
        _ringFirst++;
    }
}
