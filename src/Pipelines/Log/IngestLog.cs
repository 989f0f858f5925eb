using System.Diagnostics;
using System.Threading.Channels;
using DataPlane.Storage.Durability;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// A stream's durable ingest log: append-only segment files of framed batches, offsets counted in records.
/// One writer task drains every append queued since its last flush, writes them, and fsyncs once (group commit):
/// concurrent requests share a flush, and each is acknowledged only after the flush that covers it. Readers see
/// only flushed batches, so an offset, once read, can never be reassigned after a crash. The most recently flushed
/// batches also stay in memory (a tail bounded by <see cref="IngestLogOptions.TailBytes"/>): a pipeline keeping up
/// reads them from there; one that falls behind, or starts after a restart, reads the segment files.
/// </summary>
internal sealed class IngestLog : IAsyncDisposable
{
    private const int MaxBatchesPerFlush = 4096;

    private readonly string _directory;
    private readonly IngestLogOptions _options;
    private readonly List<LogSegment> _segments;
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly object _gate = new();
    private long _reservedBytes;
    private long _durableEnd;
    private long _flushCount;
    private TaskCompletionSource _appended = NewSignal();
    // The writer's working state, held while it writes: an idle log drops the scratch and closes its file.
    private readonly object _writeGate = new();
    private List<PendingAppend> _group = [];
    private List<ReadOnlyMemory<byte>> _buffers = [];
    private byte[] _headers = [];
    private long _lastAppend = Stopwatch.GetTimestamp();
    // The tail: batches in offset order from index _tailHead on (older slots are compacted away lazily).
    private readonly List<TailEntry> _tail = [];
    private int _tailHead;
    private long _tailBytes;
    private long _tailReads;
    private long _segmentReads;

    private IngestLog(string directory, IngestLogOptions options, List<LogSegment> segments, long truncatedBytes)
    {
        _directory = directory;
        _options = options;
        _segments = segments;
        TruncatedBytesOnOpen = truncatedBytes;
        _durableEnd = segments[^1].EndOffset;
        _reservedBytes = segments.Sum(s => s.Length);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Bytes of torn tail cut off when the log was opened (non-zero after a crash mid-write).</summary>
    public long TruncatedBytesOnOpen { get; }

    /// <summary>The offset the next appended record gets; every offset below it is durable and readable.</summary>
    public long EndOffset => Volatile.Read(ref _durableEnd);

    /// <summary>The first offset still held on disk.</summary>
    public long StartOffset { get { lock (_gate) return _segments[0].FirstOffset; } }

    public long SizeBytes { get { lock (_gate) return _segments.Sum(s => s.Length); } }

    public int SegmentCount { get { lock (_gate) return _segments.Count; } }

    /// <summary>How many fsyncs appends have needed so far (fewer than appends when group commit works).</summary>
    public long FlushCount => Interlocked.Read(ref _flushCount);

    /// <summary>Batches readers got from the in-memory tail, and from the segment files.</summary>
    public long TailReads => Interlocked.Read(ref _tailReads);
    public long SegmentReads => Interlocked.Read(ref _segmentReads);

    public static IngestLog Open(string directory, IngestLogOptions options)
    {
        Directory.CreateDirectory(directory);
        var files = new List<(long Offset, string Path)>();
        foreach (var path in Directory.EnumerateFiles(directory, "*" + LogSegment.Extension))
            if (LogSegment.TryParseFileName(System.IO.Path.GetFileName(path), out long first))
                files.Add((first, path));
        files.Sort((a, b) => a.Offset.CompareTo(b.Offset));

        var segments = new List<LogSegment>();
        long truncated = 0;
        foreach (var (offset, path) in files)
        {
            var segment = LogSegment.Open(path, offset, out long cut);
            truncated += cut;
            if (segments.Count > 0 && (segment.BatchCount == 0 || segments[^1].EndOffset != offset))
            {
                // A segment created but never written before a crash (possibly after a segment whose tail was cut
                // back). It is dropped so that the previous segment stays the active one: released as "all below
                // the committed offset", it would take the log's last batch with it, and a source resumes from the
                // positions that batch carries.
                bool empty = segment.BatchCount == 0;
                segment.Dispose();
                if (!empty)
                    throw new InvalidDataException($"Ingest log {directory} has a gap: {path} starts at offset {offset} but the previous segment ends at {segments[^1].EndOffset}.");
                // Safe: a file named as our segment, holding no batch (checked above), so nothing was acknowledged from it.
                File.Delete(path);
                continue;
            }
            segments.Add(segment);
        }
        if (segments.Count == 0)
        {
            segments.Add(LogSegment.Create(directory, 0));
            DirectoryFlush.Flush(directory);
        }
        return new IngestLog(directory, options, segments, truncated);
    }

    /// <summary>
    /// Appends one batch and completes with its first offset once it is on disk. Throws
    /// <see cref="IngestLogFullException"/> when the log is at its size bound.
    /// </summary>
    public Task<long> AppendAsync(ReadOnlyMemory<byte> payload, int recordCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(recordCount);
        // The copy for the tail is made here, on the request's thread, so the single writer only writes.
        var copy = payload.Length <= _options.TailBytes ? LogBuffer.Copy(payload.Span) : null;
        return Enqueue(copy?.Memory ?? payload, recordCount, copy);
    }

    /// <summary>
    /// <see cref="AppendAsync(ReadOnlyMemory{byte}, int)"/> of a payload in a pooled buffer, whose hold the log takes
    /// over (the caller releases nothing): it becomes the tail's copy as is.
    /// </summary>
    public async Task<long> AppendAsync(LogBuffer payload, int recordCount)
    {
        if (payload.Length <= _options.TailBytes && recordCount > 0)
            return await Enqueue(payload.Memory, recordCount, payload);
        try
        {
            return await AppendAsync(payload.Memory, recordCount);
        }
        finally
        {
            payload.Release();
        }
    }

    /// <summary>Queues one batch for the writer; <paramref name="copy"/>, when given, is the tail's and is released here if the batch is refused.</summary>
    private Task<long> Enqueue(ReadOnlyMemory<byte> payload, int recordCount, LogBuffer? copy)
    {
        long size = BatchFrame.HeaderSize + payload.Length;
        long reserved = Interlocked.Add(ref _reservedBytes, size);
        if (reserved > _options.MaxBytes)
        {
            Interlocked.Add(ref _reservedBytes, -size);
            copy?.Release();
            throw new IngestLogFullException(reserved - size, _options.MaxBytes);
        }
        Volatile.Write(ref _lastAppend, Stopwatch.GetTimestamp());
        var pending = new PendingAppend(payload, recordCount, copy);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _reservedBytes, -size);
            copy?.Release();
            throw new ObjectDisposedException(nameof(IngestLog), "The ingest log is closed.");
        }
        return pending.Completion.Task;
    }

    /// <summary>Completes once the log holds records at or past <paramref name="offset"/>.</summary>
    public Task WaitForAsync(long offset, CancellationToken cancellationToken)
    {
        Task signal;
        lock (_gate)
        {
            if (_durableEnd > offset)
                return Task.CompletedTask;
            signal = _appended.Task;
        }
        return signal.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the batch holding <paramref name="offset"/>, from the in-memory tail when it is still there, else from its
    /// segment. The caller calls <see cref="LogBatch.Release"/> when done with the payload. False when nothing durable
    /// is there yet.
    /// </summary>
    public bool TryRead(long offset, out LogBatch batch)
    {
        batch = default;
        if (offset >= EndOffset)
            return false;
        LogSegment? segment = null;
        lock (_gate)
        {
            if (offset < _segments[0].FirstOffset)
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset {offset} was already released; the log starts at {_segments[0].FirstOffset}.");
            int t = FindInTail(offset);
            if (t >= 0)
            {
                var entry = _tail[t];
                batch = new LogBatch(entry.FirstOffset, entry.RecordCount, entry.Buffer.Acquire());
                _tailReads++;
                return true;
            }
            for (int i = _segments.Count - 1; i >= 0; i--)
                if (_segments[i].FirstOffset <= offset) { segment = _segments[i]; break; }
        }
        int index = segment!.FindBatch(offset);
        if (index < 0)
            return false;
        batch = segment.ReadBatch(index);
        Interlocked.Increment(ref _segmentReads);
        return true;
    }

    /// <summary>The tail index of the batch holding <paramref name="offset"/>, or -1. Under <see cref="_gate"/>.</summary>
    private int FindInTail(long offset)
    {
        int lo = _tailHead, hi = _tail.Count - 1;
        if (lo > hi || offset < _tail[lo].FirstOffset)
            return -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var e = _tail[mid];
            if (offset < e.FirstOffset) hi = mid - 1;
            else if (offset >= e.FirstOffset + e.RecordCount) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    /// <summary>Adds a flushed batch to the tail and evicts the oldest past the byte bound. Under <see cref="_gate"/>.</summary>
    private void AddToTail(long firstOffset, int recordCount, LogBuffer buffer)
    {
        _tail.Add(new TailEntry(firstOffset, recordCount, buffer));
        _tailBytes += buffer.Length;
        while (_tailBytes > _options.TailBytes)
        {
            var oldest = _tail[_tailHead];
            _tail[_tailHead++] = default;
            _tailBytes -= oldest.Buffer.Length;
            oldest.Buffer.Release(); // readers still holding it keep it alive
        }
        if (_tailHead > 64 && _tailHead * 2 > _tail.Count)
        {
            _tail.RemoveRange(0, _tailHead);
            _tailHead = 0;
        }
    }

    /// <summary>
    /// Deletes the segments whose every record lies below <paramref name="offset"/> (all readers have committed past
    /// them). The active segment stays, and so does the one holding the log's last batch while the segment after it has
    /// none yet (just rolled to, its first write not flushed): a Kafka source resumes from the positions that batch carries.
    /// </summary>
    public int ReleaseBefore(long offset)
    {
        var released = new List<LogSegment>();
        lock (_gate)
        {
            while (_segments.Count > 1 && _segments[0].EndOffset <= offset && _segments[1].FirstOffset <= offset && _segments[1].BatchCount > 0)
            {
                released.Add(_segments[0]);
                _segments.RemoveAt(0);
            }
        }
        foreach (var segment in released)
        {
            segment.Dispose();
            // Safe: our own segment file, out of the list above so no reader can pick it any more, every record in it
            // below what every reader has committed to its sink, and a later batch is on disk after it.
            File.Delete(segment.Path);
            Interlocked.Add(ref _reservedBytes, -segment.Length);
        }
        if (released.Count > 0)
            DirectoryFlush.Flush(_directory);
        return released.Count;
    }

    /// <summary>
    /// When nothing was appended for <paramref name="idleFor"/>: closes the active segment's file and lets go of the
    /// in-memory tail and the writer's scratch, so an idle stream costs no descriptor and little memory (the next append
    /// reopens the file and everything else as it goes; readers meanwhile read the files). False when the log is not idle.
    /// </summary>
    public bool TrimIdle(TimeSpan idleFor)
    {
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastAppend)) < idleFor || !Monitor.TryEnter(_writeGate))
            return false;
        try
        {
            lock (_gate)
            {
                foreach (var segment in _segments)
                    segment.CloseForWrite();
                if (_tail.Count > 0)
                {
                    for (int i = _tailHead; i < _tail.Count; i++)
                        _tail[i].Buffer.Release();
                    _tail.Clear();
                    _tail.Capacity = 0;
                    _tailHead = 0;
                    _tailBytes = 0;
                }
            }
            if (_headers.Length > 0)
            {
                _group = [];
                _buffers = [];
                _headers = [];
            }
            return true;
        }
        finally
        {
            Monitor.Exit(_writeGate);
        }
    }

    private async Task WriteLoopAsync()
    {
        while (await _queue.Reader.WaitToReadAsync())
        {
            lock (_writeGate)
            {
                var group = _group;
                group.Clear();
                while (group.Count < MaxBatchesPerFlush && _queue.Reader.TryRead(out var pending))
                    group.Add(pending);
                try
                {
                    WriteGroup(group);
                }
                catch (Exception e)
                {
                    foreach (var pending in group)
                    {
                        Interlocked.Add(ref _reservedBytes, -(BatchFrame.HeaderSize + pending.Payload.Length));
                        pending.Copy?.Release();
                        pending.Completion.TrySetException(new IOException($"Writing the ingest log in {_directory} failed: {e.Message}", e));
                    }
                }
                group.Clear(); // no payloads held past their acknowledgement
            }
        }
    }

    /// <summary>Writes and flushes a group of appends. Under <see cref="_writeGate"/>.</summary>
    private void WriteGroup(List<PendingAppend> group)
    {
        if (_headers.Length < group.Count * BatchFrame.HeaderSize)
            _headers = new byte[Math.Max(group.Count, Math.Min(2 * _headers.Length / BatchFrame.HeaderSize, MaxBatchesPerFlush)) * BatchFrame.HeaderSize];
        var headers = _headers;
        var buffers = _buffers;
        LogSegment active;
        lock (_gate)
            active = _segments[^1];
        long position = active.Length;
        long offset = active.EndOffset;
        long groupStart = position;
        var written = new List<(LogSegment Segment, long Position, long Offset, int Count, int Length)>(group.Count);
        buffers.Clear();

        for (int i = 0; i < group.Count; i++)
        {
            var pending = group[i];
            long frame = BatchFrame.HeaderSize + pending.Payload.Length;
            if (position > 0 && position + frame > _options.SegmentBytes)
            {
                // Flush what this group put in the old segment, then start the next one at the current offset.
                Flush(active, buffers, groupStart);
                active.CloseForWrite();
                var next = LogSegment.Create(_directory, offset);
                DirectoryFlush.Flush(_directory);
                lock (_gate)
                    _segments.Add(next);
                active = next;
                position = 0;
                groupStart = 0;
                buffers.Clear();
            }
            var header = headers.AsMemory(i * BatchFrame.HeaderSize, BatchFrame.HeaderSize);
            BatchFrame.WriteHeader(header.Span, pending.Payload.Span, offset, pending.RecordCount);
            buffers.Add(header);
            buffers.Add(pending.Payload);
            written.Add((active, position, offset, pending.RecordCount, pending.Payload.Length));
            position += frame;
            offset += pending.RecordCount;
        }
        Flush(active, buffers, groupStart);
        buffers.Clear(); // holds no payload past its acknowledgement

        // Only now, all on disk: publish to readers and acknowledge.
        TaskCompletionSource signal;
        lock (_gate)
        {
            foreach (var w in written)
                w.Segment.Add(w.Position, w.Offset, w.Count, w.Length);
            for (int i = 0; i < group.Count; i++)
                if (group[i].Copy is { } copy)
                    AddToTail(written[i].Offset, written[i].Count, copy);
            Volatile.Write(ref _durableEnd, offset);
            signal = _appended;
            _appended = NewSignal();
        }
        signal.TrySetResult();
        for (int i = 0; i < group.Count; i++)
            group[i].Completion.TrySetResult(written[i].Offset);
    }

    private void Flush(LogSegment segment, List<ReadOnlyMemory<byte>> buffers, long position)
    {
        if (buffers.Count == 0)
            return;
        Interlocked.Increment(ref _flushCount);
        try
        {
            RandomAccess.Write(segment.WriteHandle, buffers, position);
            RandomAccess.FlushToDisk(segment.WriteHandle);
        }
        catch
        {
            // Leave no partial batch behind the last acknowledged one.
            try { RandomAccess.SetLength(segment.WriteHandle, position); } catch (IOException) { }
            throw;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        lock (_gate)
        {
            foreach (var segment in _segments)
                segment.Dispose();
            for (int i = _tailHead; i < _tail.Count; i++)
                _tail[i].Buffer.Release();
            _tail.Clear();
            _tailHead = 0;
            _tailBytes = 0;
        }
    }

    private readonly record struct TailEntry(long FirstOffset, int RecordCount, LogBuffer Buffer);

    /// <summary>An append waiting for the writer; <see cref="Copy"/> (the payload's own copy, for the tail) when the tail is on.</summary>
    private sealed class PendingAppend(ReadOnlyMemory<byte> payload, int recordCount, LogBuffer? copy)
    {
        public ReadOnlyMemory<byte> Payload { get; } = payload;
        public int RecordCount { get; } = recordCount;
        public LogBuffer? Copy { get; } = copy;
        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
