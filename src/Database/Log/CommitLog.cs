using System.Diagnostics;
using System.Globalization;
using DataPlane.Storage.Durability;

namespace DataPlane.Database.Log;

/// <summary>
/// The durable, append-only record of committed transactions, in segment files named by their first
/// position. Positions are strictly increasing. Recent entries are kept in a bounded in-memory ring so
/// that replicas tailing the log never touch the disk.
/// </summary>
internal sealed class CommitLog : IDisposable
{
    private const string Extension = ".log";
    private const int RingCapacity = 8192;

    private sealed class Segment(long firstPosition, string path)
    {
        public long FirstPosition { get; } = firstPosition;
        public string Path { get; } = path;
        public long LastPosition { get; set; } = firstPosition - 1;
        public long Length { get; set; }
    }

    private readonly string _directory;
    private readonly bool _syncEachAppend;
    private readonly long _segmentBytes;
    private readonly long _ringBytesLimit;
    private readonly object _gate = new();
    private readonly object _appendLock = new();
    private readonly List<Segment> _segments = [];
    private readonly LogEntry?[] _ring = new LogEntry?[RingCapacity];
    private long _ringFirst = 1;
    private long _ringLast;
    private long _ringBytes;
    private FileStream _active = null!;
    private long _syncs;
    private long _syncTicks;

    public CommitLog(string directory, long floorPosition, bool syncEachAppend, long segmentBytes = 4 << 20, long ringBytes = 16 << 20)
    {
        _directory = directory;
        _syncEachAppend = syncEachAppend;
        _segmentBytes = segmentBytes;
        _ringBytesLimit = ringBytes;
        Directory.CreateDirectory(directory);
        foreach (var path in Directory.GetFiles(directory, "*" + Extension).Order(StringComparer.Ordinal))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out long first))
                _segments.Add(new Segment(first, path));
        }
        for (int i = 0; i < _segments.Count; i++) ScanSegment(_segments[i], isLast: i == _segments.Count - 1);
        if (_segments.Count == 0) _segments.Add(new Segment(floorPosition + 1, SegmentPath(floorPosition + 1)));
        OpenActive();
        Signal = new PositionSignal(LastPosition);
        _ringLast = LastPosition;
        _ringFirst = _ringLast + 1;
    }

    /// <summary>Advances after each append; replicas in this process wait on it.</summary>
    public PositionSignal Signal { get; }

    /// <summary>How many times an append was made durable, and the seconds those syncs took in all.</summary>
    public (long Count, double Seconds) Syncs => (Interlocked.Read(ref _syncs), Interlocked.Read(ref _syncTicks) / (double)Stopwatch.Frequency);

    /// <summary>Entries after this position are all retained.</summary>
    public long FloorPosition { get { lock (_gate) return _segments[0].FirstPosition - 1; } }

    public long LastPosition { get { lock (_gate) return _segments[^1].LastPosition; } }

    public void Append(LogEntry entry)
    {
        // Readers take only _gate, and only briefly: they must never wait for this append's sync.
        lock (_appendLock)
        {
            Segment active;
            lock (_gate) active = _segments[^1];
            if (entry.Position <= active.LastPosition)
                throw new InvalidOperationException($"Log position {entry.Position} is not after the last position {active.LastPosition}.");
            LogRecordFormat.Write(_active, entry);
            _active.Flush(flushToDisk: false);
            if (_syncEachAppend)
            {
                long started = Stopwatch.GetTimestamp();
                DataSync.Flush(_active);
                Interlocked.Add(ref _syncTicks, Stopwatch.GetTimestamp() - started);
                Interlocked.Increment(ref _syncs);
            }
            entry.DurableAtMicros = Primary.Clock.NowMicros();
            lock (_gate)
            {
                active.LastPosition = entry.Position;
                active.Length = _active.Position;
                AddToRing(entry);
            }
            if (active.Length >= _segmentBytes) Roll();
        }
        Signal.Advance(entry.Position);
    }

    /// <summary>Entries after <paramref name="after"/>, up to the given count and bytes (at least one).</summary>
    public List<LogEntry> ReadAfter(long after, int maxEntries, long maxBytes)
    {
        var result = new List<LogEntry>();
        Segment[] segments;
        lock (_gate)
        {
            long floor = _segments[0].FirstPosition - 1;
            if (after < floor) throw new LogTruncatedException(after, floor + 1);
            long last = _segments[^1].LastPosition;
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
            segments = [.. _segments.Select(s => new Segment(s.FirstPosition, s.Path) { LastPosition = s.LastPosition, Length = s.Length })];
        }
        ReadFromDisk(segments, after, maxEntries, maxBytes, result);
        return result;
    }

    /// <summary>Deletes whole segments holding only entries at or before <paramref name="position"/>.</summary>
    public void TruncateThrough(long position)
    {
        List<string> doomed = [];
        lock (_gate)
        {
            while (_segments.Count > 1 && _segments[0].LastPosition <= position && _segments[1].FirstPosition - 1 <= position)
            {
                doomed.Add(_segments[0].Path);
                _segments.RemoveAt(0);
            }
        }
        // Safe: our own segment files, every entry in them at or before the position the primary passes (the latest
        // snapshot's, taken from the database file that already holds them, and no live replica's applied position
        // below). Readers ask only for entries after their own applied position, so they never open these; one that passed
        // the floor check just before (a replica whose lease ran out) fails to open the file and retries into a 410.
        foreach (var path in doomed) File.Delete(path);
    }

    /// <summary>Starts a new segment so that everything before it can be truncated.</summary>
    public void RollIfNotEmpty()
    {
        lock (_appendLock)
        {
            Segment active;
            lock (_gate) active = _segments[^1];
            if (active.LastPosition >= active.FirstPosition) Roll();
        }
    }

    public void Dispose()
    {
        lock (_appendLock) _active.Dispose();
    }

    private void ReadFromDisk(Segment[] segments, long after, int maxEntries, long maxBytes, List<LogEntry> result)
    {
        long bytes = 0;
        foreach (var segment in segments)
        {
            if (segment.LastPosition <= after) continue;
            using var stream = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            long consumed = 0;
            while (consumed < segment.Length)
            {
                var entry = LogRecordFormat.Read(stream);
                if (entry is null) break;
                consumed += entry.RecordLength;
                if (entry.Position <= after) continue;
                if (result.Count > 0 && (result.Count >= maxEntries || bytes + entry.RecordLength > maxBytes)) return;
                bytes += entry.RecordLength;
                result.Add(entry);
            }
        }
    }

    private void ScanSegment(Segment segment, bool isLast)
    {
        using var stream = new FileStream(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        long good = 0;
        while (LogRecordFormat.Read(stream) is { } entry)
        {
            if (entry.Position <= segment.LastPosition) break;
            segment.LastPosition = entry.Position;
            good += entry.RecordLength;
        }
        // A crash mid-append leaves a torn record after the last whole one: zero it, so that the
        // records appended next cannot be followed by stale bytes that parse.
        if (isLast && good < stream.Length)
        {
            stream.Position = good;
            var zeros = new byte[Math.Min(1 << 16, stream.Length - good)];
            stream.ReadExactly(zeros);
            if (zeros.Any(b => b != 0))
            {
                Array.Clear(zeros);
                stream.Position = good;
                for (long left = stream.Length - good; left > 0; left -= zeros.Length) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
                stream.Flush(flushToDisk: true);
            }
        }
        segment.Length = good;
    }

    private void OpenActive()
    {
        Segment segment;
        lock (_gate) segment = _segments[^1];
        bool created = !File.Exists(segment.Path);
        _active = new FileStream(segment.Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete, 1 << 16);
        if (created) ZeroFill(_active, _segmentBytes);
        _active.Seek(segment.Length, SeekOrigin.Begin);
    }

    /// <summary>
    /// Writes the whole segment once, up front: appends then overwrite allocated blocks and the
    /// per-commit sync flushes data only, as SQLite's reused WAL does, instead of growing the file.
    /// </summary>
    private static void ZeroFill(FileStream stream, long bytes)
    {
        // Under the large-object threshold: a per-segment LOH buffer would bring on gen2 collections.
        var zeros = new byte[64 << 10];
        for (long left = bytes; left > 0; left -= zeros.Length) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        stream.Flush(flushToDisk: true);
        stream.Position = 0;
    }

    /// <summary>Called under the append lock.</summary>
    private void Roll()
    {
        _active.Flush(flushToDisk: true);
        _active.Dispose();
        lock (_gate)
        {
            long first = _segments[^1].LastPosition + 1;
            _segments.Add(new Segment(first, SegmentPath(first)));
        }
        OpenActive();
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

    private string SegmentPath(long firstPosition) =>
        Path.Combine(_directory, firstPosition.ToString("D20", CultureInfo.InvariantCulture) + Extension);
}
