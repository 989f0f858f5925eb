using System.Diagnostics;
using DataPlane.Storage.Durability;
using Microsoft.Win32.SafeHandles;

namespace DataPlane.Storage.Log;

/// <summary>
/// An append-only log of framed records (<see cref="IRecordFraming"/>) in segment files named by their first key: the
/// ingest log's and the database commit log's one storage. A writer adds records and commits them together: one
/// gathered write and one data sync per segment they land in (group commit when a writer batches, a sync per record
/// when it commits each). On open every segment is scanned and a torn tail (a crash mid-write: everything committed was
/// synced, so it lies before the tear) is cut off, or zeroed in a preallocated segment. Segments wholly below a key are
/// released; creating and deleting a segment flushes the folder too, so a committed record's file survives a crash.
/// One writer at a time adds and commits; reads run alongside it and see only committed records.
/// </summary>
public sealed class SegmentedLog : IDisposable
{
    private const int ZeroBlock = 64 << 10;

    private readonly string _directory;
    private readonly SegmentedLogOptions _options;
    private readonly IRecordFraming _framing;
    private readonly List<LogSegment> _segments;
    private readonly object _gate = new();
    private readonly object _writeGate = new();
    // The writer's group, reused from commit to commit.
    private readonly List<Pending> _pending = [];
    private readonly List<ReadOnlyMemory<byte>> _buffers = [];
    private readonly List<(LogSegment Segment, long Start, bool Created)> _touched = [];
    private long _syncs;
    private long _syncTicks;

    private SegmentedLog(string directory, SegmentedLogOptions options, IRecordFraming framing, List<LogSegment> segments, long truncatedBytes)
    {
        _directory = directory;
        _options = options;
        _framing = framing;
        _segments = segments;
        TruncatedBytesOnOpen = truncatedBytes;
    }

    /// <summary>Bytes of torn tail cut off (or zeroed) when the log was opened: non-zero after a crash mid-write.</summary>
    public long TruncatedBytesOnOpen { get; }

    /// <summary>The first key still held on disk (the first segment's name).</summary>
    public long StartKey { get { lock (_gate) return _segments[0].FirstKey; } }

    /// <summary>The key after the last committed record.</summary>
    public long EndKey { get { lock (_gate) return _segments[^1].EndKey; } }

    /// <summary>Bytes of whole records on disk.</summary>
    public long SizeBytes { get { lock (_gate) return _segments.Sum(s => s.Length); } }

    public int SegmentCount { get { lock (_gate) return _segments.Count; } }

    /// <summary>How many data syncs commits took, and the seconds they took in all.</summary>
    public (long Count, double Seconds) Syncs => (Interlocked.Read(ref _syncs), Interlocked.Read(ref _syncTicks) / (double)Stopwatch.Frequency);

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, scanning every segment; an empty folder gets a first segment named
    /// <paramref name="firstKey"/>.
    /// </summary>
    public static SegmentedLog Open(string directory, SegmentedLogOptions options, IRecordFraming framing, long firstKey)
    {
        Directory.CreateDirectory(directory);
        var files = new List<(long Key, string Path)>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + options.Extension))
            if (LogSegment.TryParseFileName(Path.GetFileName(path), options.Extension, out long key))
                files.Add((key, path));
        files.Sort((a, b) => a.Key.CompareTo(b.Key));

        var segments = new List<LogSegment>();
        long truncated = 0;
        bool deleted = false;
        foreach (var (key, path) in files)
        {
            var segment = Scan(path, key, options, framing, out long cut);
            truncated += cut;
            if (segments.Count > 0 && (segment.RecordCount == 0 || key < segments[^1].EndKey || (options.ContiguousKeys && key != segments[^1].EndKey)))
            {
                // A segment created but never written before a crash (possibly after a segment whose tail was cut back).
                // It is dropped so that the previous segment stays the active one: appends continue there, and a log
                // keeping its last record does not lose it to a release of "everything below".
                if (segment.RecordCount > 0)
                    throw new InvalidDataException($"Log {directory} has a gap: {path} starts at key {key} but the previous segment ends at {segments[^1].EndKey}.");
                // Safe: a file named as our segment, holding no record (checked above), so nothing committed was in it.
                File.Delete(path);
                deleted = true;
                continue;
            }
            segments.Add(segment);
        }
        if (segments.Count == 0)
            segments.Add(Create(directory, firstKey, options));
        else if (deleted)
            DirectoryFlush.Flush(directory);
        return new SegmentedLog(directory, options, framing, segments, truncated);
    }

    /// <summary>
    /// Adds a record to the writer's group: <paramref name="head"/> then <paramref name="body"/> are its framed bytes
    /// (the framing's header, payload and trailer), its keys [firstKey, firstKey + keyCount). Nothing is written before
    /// <see cref="Commit"/>; the caller keeps both buffers unchanged until then.
    /// </summary>
    public void Add(long firstKey, int keyCount, ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyCount);
        lock (_writeGate)
        {
            long end = _pending.Count > 0 ? _pending[^1].FirstKey + _pending[^1].KeyCount : EndKey;
            if (_options.ContiguousKeys ? firstKey != end : firstKey < end)
                throw new ArgumentOutOfRangeException(nameof(firstKey), firstKey, $"A record at key {firstKey} cannot follow the log's end {end}.");
            _pending.Add(new Pending(firstKey, keyCount, head, body));
        }
    }

    /// <summary>
    /// Writes the group, starting segments as they fill, and syncs it (<see cref="SegmentedLogOptions.Sync"/>); only then
    /// do readers see it. On failure the log is left as it was before the group (what was written of it is cut back) and
    /// the error is thrown.
    /// </summary>
    public void Commit()
    {
        lock (_writeGate)
        {
            if (_pending.Count == 0)
                return;
            try
            {
                WriteGroup();
            }
            catch
            {
                Undo();
                throw;
            }
            finally
            {
                _pending.Clear(); // no caller buffer held past its commit
                _buffers.Clear();
                _touched.Clear();
            }
        }
    }

    /// <summary>Starts a new segment when the active one holds a record, so that everything before it can be released.</summary>
    public void Roll()
    {
        lock (_writeGate)
        {
            LogSegment active;
            lock (_gate)
                active = _segments[^1];
            if (active.RecordCount == 0)
                return;
            SyncIfWritten(active);
            active.CloseForWrite();
            var next = Create(_directory, active.EndKey, _options);
            lock (_gate)
                _segments.Add(next);
        }
    }

    /// <summary>The committed record holding <paramref name="key"/> (an indexed log only); false when there is none.</summary>
    public bool TryFind(long key, out LogRecord record)
    {
        lock (_gate)
        {
            for (int i = _segments.Count - 1; i >= 0; i--)
                if (_segments[i].FirstKey <= key)
                    return _segments[i].TryFind(key, out record);
        }
        record = default;
        return false;
    }

    /// <summary>Reads a record's payload; the number of bytes read (its whole length unless the file was cut under it).</summary>
    public static int ReadPayload(in LogRecord record, Span<byte> destination)
    {
        // Reads of the files are the slow path (both logs serve readers that keep up from memory), so each opens its own.
        using var handle = File.OpenHandle(record.SegmentPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return RandomAccess.Read(handle, destination[..record.PayloadLength], record.PayloadPosition);
    }

    /// <summary>
    /// Reads committed records in order from the first whose keys reach <paramref name="fromKey"/> or past, from the files,
    /// until <paramref name="visit"/> returns false. A segment released meanwhile throws <see cref="FileNotFoundException"/>.
    /// </summary>
    public void Read(long fromKey, LogRecordVisitor visit)
    {
        (string Path, long FirstKey, long EndKey, long Length)[] segments;
        lock (_gate)
            segments = [.. _segments.Where(s => s.EndKey > fromKey).Select(s => (s.Path, s.FirstKey, s.EndKey, s.Length))];
        foreach (var segment in segments)
        {
            using var stream = new FileStream(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            var scanner = new RecordScanner(stream, _framing, segment.Length, segment.FirstKey, _options.ContiguousKeys);
            while (scanner.MoveNext())
            {
                if (scanner.EndKey <= fromKey)
                    continue;
                if (!visit(scanner.FirstKey, scanner.KeyCount, scanner.Header, scanner.Payload))
                    return;
            }
        }
    }

    /// <summary>
    /// Deletes the segments whose every record lies below <paramref name="key"/> (the active segment always stays):
    /// how many, and their bytes.
    /// </summary>
    public (int Segments, long Bytes) ReleaseBefore(long key)
    {
        var released = new List<LogSegment>();
        lock (_gate)
        {
            while (_segments.Count > 1 && _segments[0].EndKey <= key && _segments[1].FirstKey <= key
                && (!_options.KeepLastRecord || _segments[1].RecordCount > 0))
            {
                released.Add(_segments[0]);
                _segments.RemoveAt(0);
            }
        }
        long bytes = 0;
        foreach (var segment in released)
        {
            segment.CloseForWrite();
            // Safe: our own segment file, out of the list above so no reader can pick it any more, every record in it
            // below the key the log's owner no longer needs, and a later segment after it.
            File.Delete(segment.Path);
            bytes += segment.Length;
        }
        if (released.Count > 0)
            DirectoryFlush.Flush(_directory);
        return (released.Count, bytes);
    }

    /// <summary>Closes the active segment's file until the next commit (an idle log holds no descriptor).</summary>
    public void CloseForWrite()
    {
        lock (_writeGate)
            lock (_gate)
                foreach (var segment in _segments)
                    segment.CloseForWrite();
    }

    public void Dispose() => CloseForWrite();

    /// <summary>Under <see cref="_writeGate"/>.</summary>
    private void WriteGroup()
    {
        LogSegment active;
        lock (_gate)
            active = _segments[^1];
        long position = active.Length;
        long groupStart = position;
        _touched.Add((active, position, false));
        for (int i = 0; i < _pending.Count; i++)
        {
            var p = _pending[i];
            long frame = p.Head.Length + p.Body.Length;
            if (position > 0 && position + frame > _options.SegmentBytes)
            {
                // Make what this group put in the full segment durable, then start the next one at this record.
                Write(active, groupStart);
                SyncIfWritten(active);
                active.CloseForWrite();
                active = Create(_directory, p.FirstKey, _options);
                _touched.Add((active, 0, true));
                lock (_gate)
                    _segments.Add(active);
                position = 0;
                groupStart = 0;
            }
            _buffers.Add(p.Head);
            if (!p.Body.IsEmpty)
                _buffers.Add(p.Body);
            _pending[i] = p with { Segment = active, Position = position };
            position += frame;
        }
        Write(active, groupStart);
        if (_options.Sync)
            SyncIfWritten(active);

        // Only now, all on disk: publish to readers.
        int overhead = _framing.HeaderBytes + _framing.TrailerBytes;
        lock (_gate)
        {
            foreach (var p in _pending)
            {
                long frame = p.Head.Length + p.Body.Length;
                p.Segment!.Add(p.Position, p.FirstKey, p.KeyCount, p.Position + _framing.HeaderBytes, (int)(frame - overhead), frame);
            }
        }
    }

    private void Write(LogSegment segment, long position)
    {
        if (_buffers.Count == 0)
            return;
        segment.Unsynced = true;
        if (_buffers.Count == 1)
            RandomAccess.Write(segment.WriteHandle, _buffers[0].Span, position); // a plain pwrite: no vector to pin
        else
            RandomAccess.Write(segment.WriteHandle, _buffers, position);
        _buffers.Clear();
    }

    private void SyncIfWritten(LogSegment segment)
    {
        if (!segment.Unsynced)
            return;
        long started = Stopwatch.GetTimestamp();
        DataSync.Flush(segment.WriteHandle);
        Interlocked.Add(ref _syncTicks, Stopwatch.GetTimestamp() - started);
        Interlocked.Increment(ref _syncs);
        segment.Unsynced = false;
    }

    /// <summary>Leaves no part of a failed group behind the last committed record. Best effort: the write already failed.</summary>
    private void Undo()
    {
        for (int i = _touched.Count - 1; i >= 0; i--)
        {
            var (segment, start, created) = _touched[i];
            try
            {
                if (created)
                {
                    lock (_gate)
                        _segments.Remove(segment);
                    segment.CloseForWrite();
                    // Safe: the segment this failed group created; nothing committed is in it.
                    File.Delete(segment.Path);
                    DirectoryFlush.Flush(_directory);
                }
                else
                {
                    Cut(segment.WriteHandle, start, _options.Preallocate);
                    segment.Unsynced = false;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static LogSegment Create(string directory, long firstKey, SegmentedLogOptions options)
    {
        var path = Path.Combine(directory, LogSegment.FileName(firstKey, options.Extension));
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read))
        {
            if (options.Preallocate)
            {
                // Under the large-object threshold: a per-segment LOH buffer would bring on gen2 collections.
                var zeros = new byte[ZeroBlock];
                for (long at = 0; at < options.SegmentBytes; at += zeros.Length)
                    RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, options.SegmentBytes - at)), at);
                RandomAccess.FlushToDisk(handle);
            }
        }
        DirectoryFlush.Flush(directory);
        return new LogSegment(path, firstKey, options.IndexRecords);
    }

    /// <summary>
    /// Opens a segment and indexes its records. A tail that is not a whole record (a write torn by a crash) is cut off,
    /// or zeroed in a preallocated segment, so that the records appended next cannot be followed by stale bytes that parse.
    /// </summary>
    private static LogSegment Scan(string path, long firstKey, SegmentedLogOptions options, IRecordFraming framing, out long truncatedBytes)
    {
        var segment = new LogSegment(path, firstKey, options.IndexRecords);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        long fileLength = stream.Length;
        var scanner = new RecordScanner(stream, framing, fileLength, firstKey, options.ContiguousKeys);
        while (scanner.MoveNext())
        {
            long position = scanner.Position - scanner.FrameLength;
            segment.Add(position, scanner.FirstKey, scanner.KeyCount, position + framing.HeaderBytes, scanner.Payload.Length, scanner.FrameLength);
        }
        long good = scanner.Position;
        truncatedBytes = 0;
        if (good < fileLength && (!options.Preallocate || !IsZero(stream, good)))
        {
            truncatedBytes = fileLength - good;
            Cut(stream.SafeFileHandle, good, options.Preallocate);
        }
        return segment;
    }

    private static bool IsZero(FileStream stream, long from)
    {
        stream.Position = from;
        var block = new byte[ZeroBlock];
        int read;
        while ((read = stream.Read(block)) > 0)
            if (block.AsSpan(0, read).ContainsAnyExcept((byte)0))
                return false;
        return true;
    }

    /// <summary>Drops everything from <paramref name="from"/> on: zeroes it in a preallocated segment, else shortens the file.</summary>
    private static void Cut(SafeFileHandle handle, long from, bool zero)
    {
        long length = RandomAccess.GetLength(handle);
        if (zero)
        {
            var zeros = new byte[ZeroBlock];
            for (long at = from; at < length; at += zeros.Length)
                RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, length - at)), at);
        }
        else
        {
            RandomAccess.SetLength(handle, from);
        }
        RandomAccess.FlushToDisk(handle);
    }

    private readonly record struct Pending(long FirstKey, int KeyCount, ReadOnlyMemory<byte> Head, ReadOnlyMemory<byte> Body)
    {
        public LogSegment? Segment { get; init; }

        public long Position { get; init; }
    }
}

