using System.Diagnostics;
using System.Threading.Channels;
using DataPlane.Storage.Log;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// A stream's durable ingest log: a <see cref="SegmentedLog"/> of framed batches (<see cref="BatchFrame"/>), offsets
/// counted in records. One writer task drains every append queued since its last flush, writes them, and fsyncs once (group commit):
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
    private readonly SegmentedLog _log;
    private readonly Channel<PendingAppend> _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly object _gate = new();
    private long _reservedBytes;
    private long _durableEnd;
    private TaskCompletionSource _appended = NewSignal();
    // The writer's working state, held while it writes: an idle log drops the scratch and closes its file.
    private readonly object _writeGate = new();
    private List<PendingAppend> _group = [];
    private byte[] _headers = [];
    private long _lastAppend = Stopwatch.GetTimestamp();
    // The tail: batches in offset order from index _tailHead on (older slots are compacted away lazily).
    private readonly List<TailEntry> _tail = [];
    private int _tailHead;
    private long _tailBytes;
    private long _tailReads;
    private long _segmentReads;

    private IngestLog(string directory, IngestLogOptions options, SegmentedLog log)
    {
        _directory = directory;
        _options = options;
        _log = log;
        _durableEnd = log.EndKey;
        _reservedBytes = log.SizeBytes;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Bytes of torn tail cut off when the log was opened (non-zero after a crash mid-write).</summary>
    public long TruncatedBytesOnOpen => _log.TruncatedBytesOnOpen;

    /// <summary>The offset the next appended record gets; every offset below it is durable and readable.</summary>
    public long EndOffset => Volatile.Read(ref _durableEnd);

    /// <summary>The first offset still held on disk.</summary>
    public long StartOffset => _log.StartKey;

    public long SizeBytes => _log.SizeBytes;

    public int SegmentCount => _log.SegmentCount;

    /// <summary>How many syncs appends have needed so far (fewer than appends when group commit works).</summary>
    public long FlushCount => _log.Syncs.Count;

    /// <summary>Batches readers got from the in-memory tail, and from the segment files.</summary>
    public long TailReads => Interlocked.Read(ref _tailReads);
    public long SegmentReads => Interlocked.Read(ref _segmentReads);

    public static IngestLog Open(string directory, IngestLogOptions options)
    {
        var log = SegmentedLog.Open(directory, new SegmentedLogOptions
        {
            Extension = ".segment",
            SegmentBytes = options.SegmentBytes,
            ContiguousKeys = true,
            IndexRecords = true,
            // A Kafka source resumes from the positions the log's last batch carries.
            KeepLastRecord = true,
        }, BatchFrame.Instance, firstKey: 0);
        return new IngestLog(directory, options, log);
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
        long start = _log.StartKey;
        if (offset < start)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"Offset {offset} was already released; the log starts at {start}.");
        lock (_gate)
        {
            int t = FindInTail(offset);
            if (t >= 0)
            {
                var entry = _tail[t];
                batch = new LogBatch(entry.FirstOffset, entry.RecordCount, entry.Buffer.Acquire());
                _tailReads++;
                return true;
            }
        }
        if (!_log.TryFind(offset, out var record))
            return false;
        var buffer = LogBuffer.Rent(record.PayloadLength, out var fill);
        int read;
        try
        {
            read = SegmentedLog.ReadPayload(record, fill);
        }
        catch
        {
            buffer.Release();
            throw;
        }
        if (read != record.PayloadLength)
        {
            buffer.Release();
            throw new IOException($"Segment {record.SegmentPath} is shorter than its index: batch at offset {record.FirstKey} expected {record.PayloadLength} bytes, read {read}.");
        }
        batch = new LogBatch(record.FirstKey, record.KeyCount, buffer);
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
        var (segments, bytes) = _log.ReleaseBefore(offset);
        Interlocked.Add(ref _reservedBytes, -bytes);
        return segments;
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
            _log.CloseForWrite();
            lock (_gate)
            {
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
        long first = Volatile.Read(ref _durableEnd);
        long offset = first;
        for (int i = 0; i < group.Count; i++)
        {
            var pending = group[i];
            var header = _headers.AsMemory(i * BatchFrame.HeaderSize, BatchFrame.HeaderSize);
            BatchFrame.WriteHeader(header.Span, pending.Payload.Span, offset, pending.RecordCount);
            _log.Add(offset, pending.RecordCount, header, pending.Payload);
            offset += pending.RecordCount;
        }
        _log.Commit();

        // Only now, all on disk: publish to readers and acknowledge.
        TaskCompletionSource signal;
        lock (_gate)
        {
            offset = first;
            foreach (var pending in group)
            {
                if (pending.Copy is { } copy)
                    AddToTail(offset, pending.RecordCount, copy);
                offset += pending.RecordCount;
            }
            Volatile.Write(ref _durableEnd, offset);
            signal = _appended;
            _appended = NewSignal();
        }
        signal.TrySetResult();
        offset = first;
        foreach (var pending in group)
        {
            pending.Completion.TrySetResult(offset);
            offset += pending.RecordCount;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        _log.Dispose();
        lock (_gate)
        {
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
