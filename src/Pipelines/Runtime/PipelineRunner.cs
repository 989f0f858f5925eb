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
/// last commit. Any failure restarts the run from the last commit.
/// <para>
/// Every file is recorded in the pipeline's <see cref="UncommittedFileJournal"/> before it is created, and the journal is
/// cleared after each commit. A (re)start deletes only what the journal names and the target proves unreferenced
/// (no snapshot in the table's metadata), never anything found by listing: the table's folder also holds other
/// writers' files, uncommitted, deleted from the current snapshot but kept by older ones, on branches and tags.
/// </para>
/// <para>
/// With other writers: the last commit is the newest of the sink's in the current snapshot's history. When another
/// writer rolls the table back past some of the sink's commits, the next commit is refused
/// (<see cref="SinkRolledBackException"/>, checked on the exact metadata the commit lands on) and the run starts again
/// from the last commit still in the history, so the records the rollback took out are delivered again from the log,
/// once: the rolled-back snapshots keep their files for time travel, and no snapshot in the current history has them.
/// Records the log has already released are not delivered again (they stay in the rolled-back snapshots).
/// </para>
/// <para>
/// With table maintenance: compaction's <c>replace</c> snapshots are other writers' commits in the history, passed over
/// like any. Snapshot expiry removes old snapshots, the sink's last commit among them, so the walk would end before
/// reaching it; expiry therefore leaves, in the same commit, a marker where it cuts the history: for each sink, its
/// newest commit below the cut (snapshot id, stream, offsets), in the table property
/// <c>dataplane.last-commit.&lt;sink&gt;</c> (<see cref="Catalog.Operations.CommitHistory"/>). The walk goes on through
/// it, so the offsets outlive their snapshot, and no snapshot is kept for them (it would pin every file it references
/// after compaction replaced them). A rollback still shows: the last commit in the current history, marker or not, is
/// then not the one the pipeline continues from. The clean-up needs nothing more: a journal's file whose commit expired
/// is either still referenced by a kept snapshot (kept) or was replaced and expired (deleted, as garbage).
/// </para>
/// </summary>
internal sealed class PipelineRunner : IAsyncDisposable
{
    private readonly PipelineDefinition _definition;
    private readonly IngestStream _stream;
    private readonly SinkDefinition _sink;
    private readonly ISinkTarget _target;
    private readonly UncommittedFileJournal _journal;
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
    private long _recordsIn;
    private long _recordsOut;
    private int _disposed;

    public PipelineRunner(PipelineDefinition definition, IngestStream stream, SinkDefinition sink, ISinkTarget target, UncommittedFileJournal journal,
        BatchTransform transform, PipelineMetrics metrics, ILogger logger)
    {
        _journal = journal;
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
    /// <summary>Records read from the stream and written by the transform since this runner started (re-reads after a
    /// restart from the last commit count again): the console's per-operator counts.</summary>
    public long RecordsIn => Interlocked.Read(ref _recordsIn);
    public long RecordsOut => Interlocked.Read(ref _recordsOut);
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
            catch (SinkRolledBackException e)
            {
                // Another writer's rollback, not a fault: start over from the last commit still in the table's history.
                _logger.LogWarning("Pipeline {Pipeline}: commit refused. {Reason} It resumes from its last commit still in the history and delivers the records after it again.",
                    _definition.Name, e.Message);
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
        await RemoveUncommittedAsync(cancellationToken);
        _journal.Reset(_target.Identity ?? throw new InvalidOperationException("The sink target names what it writes once its last commit is read."));
        long start = await ResumeOffsetAsync(last, cancellationToken);
        LastCommit = last;
        Interlocked.Exchange(ref _committed, start);
        Interlocked.Exchange(ref _read, start);
        _stream.Commit(_definition.Name, start);
        State = "running";

        // The pipeline's choices where the table (or a files sink's definition) sets no write properties; the target
        // applies those (TableWriteProperties) when it opens each roll's writer.
        var options = new DataFileWriterOptions
        {
            // Ingestion is CPU-bound and zstd is its largest single cost: level 1 takes about half of level 3's CPU for
            // files a few percent larger (bench/Pipelines: pipelines-stages).
            CompressionLevel = 1,
            TargetFileSizeBytes = _sink.MaxFileBytes,
            RowGroupSizeBytes = Math.Min(_sink.MaxFileBytes, 128L * 1024 * 1024),
            OnNewFile = _journal.RecordAsync,
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
                        Interlocked.Add(ref _recordsIn, records.Length);
                        Interlocked.Add(ref _recordsOut, output.Length);
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

    /// <summary>
    /// Where the run starts reading: after the last commit. When the log no longer holds that offset, the run may go on
    /// only if the sink did commit up to where the log starts, in snapshots a rollback took out of the table's
    /// history: those records are not in the current snapshot, but were delivered and stay in the rolled-back ones.
    /// Otherwise records would be skipped that the sink never committed anywhere, and the run fails instead.
    /// </summary>
    private async Task<long> ResumeOffsetAsync(SinkCommit? last, CancellationToken cancellationToken)
    {
        long logStart = _stream.Log.StartOffset;
        long start = last?.EndOffset ?? logStart;
        if (start >= logStart)
            return start;
        var furthest = await _target.FurthestCommitAsync(cancellationToken);
        if (furthest is null || furthest.Stream != _stream.Name || furthest.EndOffset < logStart)
            throw new InvalidOperationException($"Sink '{_sink.Name}' resumes at offset {start} but stream '{_stream.Name}' starts at {logStart}: records were released before this sink committed them.");
        _logger.LogWarning(
            "Pipeline {Pipeline}: its commits of stream offsets {Start} to {Furthest} were rolled back out of the table's history (up to snapshot {Snapshot}), " +
            "and the stream's log now starts at {LogStart}: the offsets before it are not delivered again (they remain in the rolled-back snapshots); resuming there",
            _definition.Name, start, furthest.EndOffset, furthest.Id, logStart);
        return logStart;
    }

    /// <summary>
    /// Deletes the files the journal recorded that the target proves unreferenced (a roll cut short by a crash, a
    /// stop or a failed commit), and says which and why. Called before a run starts, and by
    /// <see cref="RemoveUncommittedAfterStopAsync"/>; the journal is cleared only by the caller.
    /// </summary>
    private async Task RemoveUncommittedAsync(CancellationToken cancellationToken)
    {
        var (recordedFor, keys) = _journal.Read();
        if (keys.Count == 0)
            return;
        var result = await _target.RemoveUncommittedAsync(recordedFor, keys, cancellationToken);
        if (result.Removed.Count > 0)
        {
            var proof = _sink.Type == SinkDefinition.Iceberg
                ? $"no snapshot of table {_sink.Namespace}.{_sink.Table} references them (current, older, branches and tags; data and delete files)"
                : $"no commit of folder {_sink.Path} names them";
            _logger.LogWarning("Pipeline {Pipeline}: removed {Count} file(s) it wrote for a commit that did not land: its journal recorded them before they were written, and {Proof}: {Files}",
                _definition.Name, result.Removed.Count, proof, Names(result.Removed));
        }
        if (result.Committed > 0)
            _logger.LogInformation("Pipeline {Pipeline}: kept {Count} recorded file(s) that a commit did land (it stopped after committing, before clearing its journal)",
                _definition.Name, result.Committed);
        if (result.NotChecked is { } reason)
            _logger.LogWarning("Pipeline {Pipeline}: left the file(s) its journal recorded in place, unchecked: {Reason}; only table maintenance's orphan removal may take them",
                _definition.Name, reason);
    }

    private static string Names(IReadOnlyList<string> keys) =>
        keys.Count <= 20 ? string.Join(", ", keys) : string.Join(", ", keys.Take(20)) + $" and {keys.Count - 20} more";

    /// <summary>
    /// After the runner stopped for good (its pipeline is deleted): removes what its journal recorded that no commit
    /// references, then the journal. When the check fails (the catalog cannot be read), the journal stays, for a pipeline
    /// created again under the same name to finish.
    /// </summary>
    public async Task RemoveUncommittedAfterStopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 0)
            throw new InvalidOperationException($"Pipeline '{_definition.Name}' is still running.");
        try
        {
            await RemoveUncommittedAsync(cancellationToken);
            // Safe: the pipeline's own journal (<name>.files), its runner stopped so nothing records into it, and every key
            // it named was settled just above: removed, kept as committed, or (its table gone or replaced) left to orphan removal.
            _journal.Delete();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Pipeline {Pipeline}: could not check the files its journal {Journal} recorded; it stays for a pipeline of the same name to finish",
                _definition.Name, _journal.Path);
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
        var commit = await _target.CommitAsync(files, _stream.Name, CommittedOffset, offset, LastCommit, cancellationToken);
        // Committed: the roll's files are the table's now. (A crash before this leaves them recorded; the next start finds them referenced and keeps them.)
        _journal.Reset(_target.Identity!);
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
