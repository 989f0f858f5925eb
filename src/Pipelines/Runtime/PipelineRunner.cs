using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Catalog.DataFiles;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Streams;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// Runs one pipeline: reads the stream's log from the offset of the sink's last commit, transforms each batch,
/// writes data files, and commits them with the offsets they cover when the rolling policy (rows, bytes, interval)
/// or a flush says so. Exactly once: offsets and files are committed together, and a restart resumes from the
/// last commit after deleting files no commit references. Any failure restarts the run from the last commit.
/// </summary>
internal sealed class PipelineRunner : IAsyncDisposable
{
    private readonly PipelineDefinition _definition;
    private readonly IngestStream _stream;
    private readonly SinkDefinition _sink;
    private readonly ISinkTarget _target;
    private readonly BatchTransform _transform;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long Target, TaskCompletionSource<SinkCommit?> Done)> _flushes = [];
    private readonly object _gate = new();
    private readonly string _labels;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _run = Task.CompletedTask;
    private long _committed;
    private long _read;
    private int _disposed;

    public PipelineRunner(PipelineDefinition definition, IngestStream stream, SinkDefinition sink, ISinkTarget target, BatchTransform transform, PipelineMetrics metrics, ILogger logger)
    {
        _definition = definition;
        _stream = stream;
        _sink = sink;
        _target = target;
        _transform = transform;
        _metrics = metrics;
        _logger = logger;
        _labels = PipelineMetrics.Labels(("pipeline", definition.Name));
        // Hold the log from its start until the real resume point is known.
        _committed = stream.Log.StartOffset;
        stream.AddReader(definition.Name, _committed);
    }

    public PipelineDefinition Definition => _definition;
    public IngestStream Stream => _stream;
    public SinkDefinition Sink => _sink;
    public string State { get; private set; } = "starting";
    public string? LastError { get; private set; }
    public DateTimeOffset? LastErrorAt { get; private set; }
    public SinkCommit? LastCommit { get; private set; }
    public long CommittedOffset => Interlocked.Read(ref _committed);
    public long ReadOffset => Interlocked.Read(ref _read);
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Commits everything acknowledged so far; completes with the commit covering it.</summary>
    public async Task<SinkCommit?> FlushAsync(CancellationToken cancellationToken)
    {
        long target = _stream.Log.EndOffset;
        var done = new TaskCompletionSource<SinkCommit?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (CommittedOffset >= target)
                return LastCommit;
            _flushes.Add((target, done));
        }
        Wake();
        return await done.Task.WaitAsync(cancellationToken);
    }

    private void Wake()
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            wake = _wake;
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                State = "failed";
                LastError = e.Message;
                LastErrorAt = DateTimeOffset.UtcNow;
                _metrics.Add("dataplane_pipeline_errors_total", "Pipeline runs that failed and restarted from the last commit.", _labels, 1);
                _logger.LogError(e, "Pipeline {Pipeline} failed; restarting from its last commit in {Delay}", _definition.Name, backoff);
                // A flush waiting for this run would otherwise wait for a run that may never succeed (a dropped table).
                FailFlushes(new InvalidOperationException($"Pipeline '{_definition.Name}' failed before the flush committed: {e.Message} It retries from its last commit."));
                try { await Task.Delay(backoff, cancellationToken); } catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 30_000));
            }
        }
        State = "stopped";
    }

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var last = await _target.LastCommitAsync(cancellationToken);
        if (last is not null && last.Stream != _stream.Name)
            throw new InvalidOperationException($"Sink '{_sink.Name}' was last committed from stream '{last.Stream}', not '{_stream.Name}'; give this pipeline its own sink.");
        long start = last?.EndOffset ?? _stream.Log.StartOffset;
        if (start < _stream.Log.StartOffset)
            throw new InvalidOperationException($"Sink '{_sink.Name}' resumes at offset {start} but stream '{_stream.Name}' starts at {_stream.Log.StartOffset}: records were released before this sink committed them.");
        int removed = await _target.RemoveUncommittedAsync(cancellationToken);
        if (removed > 0)
            _logger.LogWarning("Pipeline {Pipeline}: removed {Count} data file(s) written but never committed", _definition.Name, removed);
        LastCommit = last;
        Interlocked.Exchange(ref _committed, start);
        Interlocked.Exchange(ref _read, start);
        _stream.Commit(_definition.Name, start);
        State = "running";

        var options = new DataFileWriterOptions
        {
            // Ingestion is CPU-bound and zstd is its largest single cost: level 1 takes about half of level 3's CPU for
            // files a few percent larger (bench/Pipelines: pipelines-stages).
            CompressionLevel = 1,
            TargetFileSizeBytes = _sink.MaxFileBytes,
            RowGroupSizeBytes = Math.Min(_sink.MaxFileBytes, 128L * 1024 * 1024),
        };
        PartitionedWriter? writer = null;
        long offset = start, rows = 0, bytes = 0;
        var openedAt = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromSeconds(_sink.IntervalSeconds);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Task wake;
                lock (_gate)
                    wake = _wake.Task;
                if (_stream.Log.TryRead(offset, out var batch))
                {
                    try
                    {
                        if (batch.FirstOffset != offset)
                            throw new InvalidDataException($"Offset {offset} is inside a batch starting at {batch.FirstOffset}; pipelines commit at batch boundaries.");
                        using var reader = new ArrowStreamReader(batch.Payload);
                        using var records = reader.ReadNextRecordBatch();
                        var output = _transform.Apply(records);
                        if (output.Length > 0)
                        {
                            writer ??= _target.OpenWriter(options);
                            await writer.WriteAsync(output, cancellationToken);
                        }
                        rows += output.Length;
                        bytes += batch.Payload.Length;
                        _metrics.Add("dataplane_pipeline_records_out_total", "Records the pipeline wrote to its sink (after WHERE).", _labels, output.Length);
                        _metrics.Add("dataplane_pipeline_bytes_in_total", "Log bytes (Arrow IPC) the pipeline read.", _labels, batch.Payload.Length);
                    }
                    finally
                    {
                        batch.Release();
                    }
                    offset = batch.EndOffset;
                    Interlocked.Exchange(ref _read, offset);
                }
                else
                {
                    var remaining = interval - Stopwatch.GetElapsedTime(openedAt);
                    if (!FlushDue(offset) && (offset == CommittedOffset || remaining > TimeSpan.Zero))
                    {
                        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        var delay = offset == CommittedOffset ? Timeout.InfiniteTimeSpan : remaining;
                        await Task.WhenAny(_stream.Log.WaitForAsync(offset, idle.Token), wake, Task.Delay(delay, idle.Token));
                        idle.Cancel();
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                }

                bool due = offset > CommittedOffset && (
                    rows >= (_sink.MaxRows ?? long.MaxValue) || bytes >= _sink.MaxFileBytes
                    || Stopwatch.GetElapsedTime(openedAt) >= interval || FlushDue(offset));
                if (due)
                {
                    await CommitAsync(writer, offset, cancellationToken);
                    writer = null;
                    rows = bytes = 0;
                    openedAt = Stopwatch.GetTimestamp();
                }
                else if (offset == CommittedOffset)
                {
                    CompleteFlushes();
                    if (rows == 0)
                        openedAt = Stopwatch.GetTimestamp();
                }
            }
        }
        finally
        {
            if (writer is not null)
                await writer.DisposeAsync();
        }
    }

    private bool FlushDue(long offset)
    {
        lock (_gate)
            return _flushes.Count > 0 && _flushes.Min(f => f.Target) <= offset;
    }

    private async Task CommitAsync(PartitionedWriter? writer, long offset, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<SinkDataFile> files = [];
        if (writer is not null)
        {
            files = [.. await writer.CompleteAsync(cancellationToken)];
            await writer.DisposeAsync();
        }
        var commit = await _target.CommitAsync(files, _stream.Name, CommittedOffset, offset, cancellationToken);
        LastCommit = commit;
        Interlocked.Exchange(ref _committed, offset);
        _stream.Commit(_definition.Name, offset);
        _metrics.Observe("dataplane_pipeline_commit_seconds", "Time to close a roll's files and commit them.", _labels, Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.Add("dataplane_pipeline_files_written_total", "Data files committed by the pipeline.", _labels, files.Count);
        _metrics.Add("dataplane_pipeline_bytes_out_total", "Bytes of data files committed by the pipeline.", _labels, files.Sum(f => f.File.FileSizeInBytes));
        _metrics.Add("dataplane_pipeline_commits_total", "Commits (snapshots) made by the pipeline.", _labels, 1);
        CompleteFlushes();
    }

    private void CompleteFlushes()
    {
        List<TaskCompletionSource<SinkCommit?>> done = [];
        lock (_gate)
        {
            for (int i = _flushes.Count - 1; i >= 0; i--)
                if (_flushes[i].Target <= CommittedOffset)
                {
                    done.Add(_flushes[i].Done);
                    _flushes.RemoveAt(i);
                }
        }
        foreach (var d in done)
            d.TrySetResult(LastCommit);
    }

    private void FailFlushes(Exception error)
    {
        List<TaskCompletionSource<SinkCommit?>> failed;
        lock (_gate)
        {
            failed = [.. _flushes.Select(f => f.Done)];
            _flushes.Clear();
        }
        foreach (var f in failed)
            f.TrySetException(error);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stop.Cancel();
        try { await _run; } catch (OperationCanceledException) { }
        FailFlushes(new InvalidOperationException($"Pipeline '{_definition.Name}' stopped before the flush completed."));
        _stop.Dispose();
    }
}
