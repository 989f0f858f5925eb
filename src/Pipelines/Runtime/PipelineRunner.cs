using System.Diagnostics;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.Iceberg.DataFiles;
using DataPlane.Pipelines.Metrics;
using DataPlane.Pipelines.Sinks;
using DataPlane.Pipelines.Sources;
using DataPlane.Pipelines.Streams;
using DataPlane.SqlTransforms;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.State;
using DataPlane.Storage;
using Microsoft.Extensions.Logging;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// Runs one pipeline: reads the stream's log once, from the earliest of its sinks' last commits, runs each batch
/// through the compiled SQL (one statement per sink, each with its own operators), writes each statement's output into
/// its sink's data files, and commits each sink's files with the offsets they cover when that sink's rolling policy
/// (rows, bytes, interval) or a flush says so. Exactly once, per sink: a sink's offsets and files are committed
/// together, each sink resumes from its own last commit (a batch is run for the sinks that have not committed it yet),
/// and the log keeps what the furthest-behind sink still needs. Records a statement fails on (a CAST that does not
/// convert, a division by zero...) are dropped and counted per reason; a dead-letter sink, when the pipeline names one,
/// receives them (<see cref="DeadLetters"/>), exactly once like any sink. Any failure restarts the run from the last
/// commits.
/// <para>
/// Every file is recorded in its sink's <see cref="UncommittedFileJournal"/> before it is created, and the journal is
/// cleared after each of that sink's commits. A (re)start deletes only what the journal names and the target proves unreferenced
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
/// <c>dataplane.last-commit.&lt;sink&gt;</c> (<see cref="Iceberg.Operations.CommitHistory"/>). The walk goes on through
/// it, so the offsets outlive their snapshot, and no snapshot is kept for them (it would pin every file it references
/// after compaction replaced them). A rollback still shows: the last commit in the current history, marker or not, is
/// then not the one the pipeline continues from. The clean-up needs nothing more: a journal's file whose commit expired
/// is either still referenced by a kept snapshot (kept) or was replaced and expired (deleted, as garbage).
/// </para>
/// <para>
/// A Kafka-backed stream's records are read from its topic instead (<see cref="KafkaStreamInput"/>), a batch of one
/// partition at a time. Each sink then resumes each partition from the offsets its commits in the table's history name
/// (<see cref="KafkaOffsets"/>), and each commit names the offsets of every partition it covers and requires that the
/// table still has the sink's commits end where this run began them: a commit by another writer of those partitions
/// (a worker that took them over) or a rollback refuses it, and the run starts over from the table, dropping its files.
/// Within a run the runner counts messages read as its offsets (<see cref="ReadOffset"/>, <see cref="CommittedOffset"/>).
/// </para>
/// <para>
/// A pipeline whose SQL names several streams (a join of two) reads each one's log at its own position, a batch of each
/// in turn (<see cref="StreamLogs"/>), and pushes each batch as that stream's input of the statements. Each sink resumes
/// each stream from where its last commit left it (<see cref="StreamSinkOffsets"/>), its commits name every stream's
/// offsets (<see cref="StreamOffsets"/>), and each log keeps what the furthest-behind sink still needs of it. As for a
/// Kafka-backed stream, the run counts the records it read as its offsets.
/// </para>
/// </summary>
internal sealed class PipelineRunner : IAsyncDisposable
{
    /// <summary>Waits between failed runs: from 200 ms, doubling to 30 s, jittered so that pipelines that failed together
    /// (their catalog or storage away) do not all come back at once. Never exhausted: the pipeline runs until stopped.</summary>
    private static readonly RetryPolicy Restart = new() { MaxAttempts = int.MaxValue, BaseDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(30) };

    private readonly PipelineDefinition _definition;
    private readonly IngestStream _stream;
    /// <summary>Every stream the SQL names, the first being <see cref="_stream"/>; several: their logs (else null).</summary>
    private readonly IReadOnlyList<IngestStream> _streams;
    private readonly StreamLogs? _logs;
    // A pipeline over several streams' flushes: each log's end to reach (null: not asked yet), then their target.
    private readonly List<(long[]? Ends, TaskCompletionSource<SinkCommit?> Done)> _logFlushes = [];
    // The batch in hand of a pipeline over several streams: which stream, and its first offset in that stream's log.
    private (int Stream, long FirstOffset)? _logBatch;
    private readonly SqlProgram _program;
    private readonly IReadOnlyList<PipelineSink> _statements;
    private readonly PipelineSink? _deadLetter;
    private readonly IReadOnlyList<PipelineSink> _sinks;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long Target, TaskCompletionSource<SinkCommit?> Done)> _flushes = [];
    // A Kafka-backed stream's flushes: the partitions' high watermarks to reach (null: not asked yet), then their target.
    private readonly List<(long[]? Highs, TaskCompletionSource<SinkCommit?> Done)> _kafkaFlushes = [];
    private readonly int _maxRecordBytes;
    private KafkaStreamInput? _kafka;
    private readonly object _gate = new();
    private readonly MetricLabels _labels;
    private readonly DeadLetters _deadLetters;
    private readonly SqlExecution?[] _probes;
    private readonly long _maxStateBytes;
    private readonly StateOptions _state;
    private readonly string _fingerprint;
    private readonly ScaleOut? _scaleOut;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _run = Task.CompletedTask;
    private long _committed;
    private long _read;
    private long _recordsIn;
    private long _recordsOut;
    private int _disposed;

    /// <param name="statements">One sink per statement of <paramref name="program"/>, in its order.</param>
    /// <param name="deadLetter">The sink that receives the records the statements fail on; null to drop them (counted).</param>
    /// <param name="state">How each statement's keyed state is sharded and bounded in memory (default: one shard, in memory).</param>
    public PipelineRunner(PipelineDefinition definition, IReadOnlyList<IngestStream> streams, SqlProgram program, IReadOnlyList<PipelineSink> statements, PipelineSink? deadLetter,
        PipelineMetrics metrics, ILogger logger, long maxStateBytes = long.MaxValue, int maxRecordBytes = 1024 * 1024, StateOptions? state = null)
    {
        _state = state ?? StateOptions.InMemory;
        _maxRecordBytes = maxRecordBytes;
        _maxStateBytes = maxStateBytes;
        _fingerprint = CheckpointHeader.Fingerprint(program.Sql);
        _scaleOut = ScaleOut.For([.. streams.Select(s => s.Definition)], program);
        _definition = definition;
        _streams = streams;
        _stream = streams[0];
        _logs = streams.Count > 1 ? new StreamLogs(streams) : null;
        var stream = _stream;
        _program = program;
        _statements = statements;
        _deadLetter = deadLetter;
        _sinks = deadLetter is null ? statements : [.. statements, deadLetter];
        _metrics = metrics;
        _logger = logger;
        _labels = PipelineMetrics.Labels(("pipeline", definition.Name));
        _deadLetters = new DeadLetters(definition.Name, stream.Name);
        _probes = new SqlExecution?[statements.Count];
        // Hold the log from its start until the real resume point is known.
        _committed = _logs is null ? stream.Log.StartOffset : 0;
        foreach (var s in streams)
            s.AddReader(definition.Name, s.Log.StartOffset);
    }

    public PipelineDefinition Definition => _definition;
    public IngestStream Stream => _stream;
    /// <summary>Every stream the pipeline reads, in the order its SQL names them (the first is <see cref="Stream"/>).</summary>
    public IReadOnlyList<IngestStream> Streams => _streams;
    /// <summary>For a pipeline over several streams: the offset the run reads next in the log of <paramref name="stream"/> (an index of <see cref="Streams"/>).</summary>
    public long ReadOffsetOf(int stream) => _logs?.Position(stream) ?? ReadOffset;
    /// <summary>The statements' sinks in order, then the dead-letter sink if any.</summary>
    public IReadOnlyList<PipelineSink> Sinks => _sinks;
    public PipelineSink? DeadLetter => _deadLetter;
    /// <summary><c>defined</c> until <see cref="Start"/> (a process that runs no pipelines, <see cref="PipelinesOptions.RunsPipelines"/>, only holds the
    /// definition), then <c>starting</c>, <c>running</c>, <c>failed</c> (retrying) or <c>stopped</c>.</summary>
    public string State { get; private set; } = "defined";
    public string? LastError { get; private set; }
    public DateTimeOffset? LastErrorAt { get; private set; }
    /// <summary>The first statement's sink's last commit (what a flush answers).</summary>
    public SinkCommit? LastCommit => _statements[0].LastCommit;
    /// <summary>Where every sink has committed up to: the least of their committed offsets.</summary>
    public long CommittedOffset => Interlocked.Read(ref _committed);
    public long ReadOffset => Interlocked.Read(ref _read);
    /// <summary>Records read from the stream, and written by the statements into their sinks, since this runner started
    /// (re-reads after a restart from the last commit count again): the console's per-operator counts.</summary>
    public long RecordsIn => Interlocked.Read(ref _recordsIn);
    public long RecordsOut => Interlocked.Read(ref _recordsOut);
    /// <summary>A Kafka-backed stream's partitions this worker reads now, with their lag (none for a local log, or between runs).</summary>
    public IReadOnlyList<KafkaPartitionLag> KafkaLag => _kafka?.Lag ?? [];
    /// <summary>How the pipeline spreads over the workers of a Kafka-backed stream (null: it reads a local log).</summary>
    public ScaleOut? ScaleOut => _scaleOut;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Whether the pipeline writes <paramref name="sink"/> (a statement's or its dead-letter sink).</summary>
    public bool Writes(string sink) => _sinks.Any(s => s.Name == sink);

    /// <summary>The tables the statements' lookup joins read (null: none), loaded as each run starts and reloaded between batches.</summary>
    public Lookups.LookupTables? Lookups { get; init; }

    private Func<string, RecordBatch>? LookupRows => Lookups is null ? null : Lookups.Rows;

    public void Start()
    {
        State = "starting";
        _run = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Commits everything acknowledged so far, in every sink; completes with the first statement's sink's commit covering it.</summary>
    public async Task<SinkCommit?> FlushAsync(CancellationToken cancellationToken)
    {
        long target = _stream.Log.EndOffset;
        var done = new TaskCompletionSource<SinkCommit?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            // A Kafka-backed stream: what the broker has acknowledged is asked by the run, which holds the consumer.
            if (_stream.Definition.KafkaBacked)
                _kafkaFlushes.Add((null, done));
            else if (_logs is not null)
                _logFlushes.Add((_logs.Ends(), done)); // the logs' ends now: reached once the run has read that far in each
            else if (CommittedOffset >= target)
                return LastCommit;
            else
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
        int failures = 0;
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
            catch (KafkaRebalanceException e)
            {
                // The group moved partitions: what this run read and did not commit is dropped with it (another worker may
                // have those partitions now), and the next run positions this worker's new share from the table.
                _logger.LogInformation("Pipeline {Pipeline}: {Reason} It starts over from the table's offsets with the partitions it now has.", _definition.Name, e.Message);
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
                var delay = Restart.DelayAfter(++failures);
                _logger.LogError(e, "Pipeline {Pipeline} failed; restarting from its last commit in {Delay}", _definition.Name, delay);
                // A flush waiting for this run would otherwise wait for a run that may never succeed (a dropped table).
                FailFlushes(new InvalidOperationException($"Pipeline '{_definition.Name}' failed before the flush committed: {e.Message} It retries from its last commit."));
                try { await Task.Delay(delay, cancellationToken); } catch (OperationCanceledException) { break; }
            }
        }
        _kafka?.Dispose();
        _kafka = null;
        State = "stopped";
    }

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        int partitions = 0;
        IReadOnlyList<int> given = [];
        if (_stream.Definition.KafkaBacked)
        {
            // The group's share of the topic first, then the table: what the run resumes from is read once the
            // partitions' previous owners have let them go.
            _kafka ??= new KafkaStreamInput(_stream, _definition.Name, _maxRecordBytes, _logger);
            partitions = _kafka.ReadPartitionCount();
            given = _kafka.WaitForAssignment(cancellationToken);
        }
        foreach (var sink in _sinks)
            await PrepareAsync(sink, cancellationToken);
        long start = _sinks.Min(s => s.CommittedOffset);
        Interlocked.Exchange(ref _committed, start);
        Interlocked.Exchange(ref _read, start);
        if (_logs is not null)
            StartLogs();
        else if (!_stream.Definition.KafkaBacked)
            _stream.Commit(_definition.Name, start);
        else
            RestartKafkaFlushes();
        if (Lookups is not null)
            await Lookups.LoadAsync(cancellationToken);
        // Each statement's operators, compiled once per run; their output batches wait in the sink's list until written.
        foreach (var sink in _statements)
            sink.StartRun(_program.Start(sink.Statement, sink.Pending.Add, state: _state, lookupRows: LookupRows));
        bool stateful = _statements.Any(s => s.Execution!.HasState);
        // State that follows the partitions: each partition this worker has runs in an execution of its own, restored
        // from the checkpoint of the last commit naming that partition; otherwise one worker runs them all.
        bool byPartition = stateful && _kafka is not null && _scaleOut is { ByPartition: true };
        foreach (var sink in _statements)
        {
            if (byPartition && sink.Execution!.HasState)
                await RestorePartitionsAsync(sink, given, cancellationToken);
            else
                await RestoreAsync(sink, cancellationToken);
        }
        State = "running";

        long offset = start;
        try
        {
            if (_kafka is not null)
                PositionKafka(_kafka, partitions, stateful && !byPartition);
            while (!cancellationToken.IsCancellationRequested)
            {
                Task wake;
                lock (_gate)
                    wake = _wake.Task;
                if (_kafka is not null)
                    offset = await ReadKafkaAsync(offset, stateful, cancellationToken);
                else if (_logs is not null)
                    offset = await ReadLogsAsync(offset, stateful, wake, cancellationToken);
                else if (_stream.Log.TryRead(offset, out var batch))
                {
                    try
                    {
                        if (batch.FirstOffset != offset)
                            throw new InvalidDataException($"Offset {offset} is inside a batch starting at {batch.FirstOffset}; pipelines commit at batch boundaries.");
                        using var reader = new ArrowStreamReader(batch.Payload);
                        using var records = reader.ReadNextRecordBatch();
                        await ProcessAsync(batch.FirstOffset, batch.Payload.Length, records, cancellationToken);
                    }
                    finally
                    {
                        batch.Release();
                    }
                    offset = batch.EndOffset;
                    Interlocked.Exchange(ref _read, offset);
                }
                else if (!FlushDue(offset) && NextRoll(offset) is var roll && roll != TimeSpan.Zero)
                {
                    // Nothing to read: wait for records, a flush, or the first sink's roll by interval (none: every sink has committed all).
                    // Windows also wake once a second: processing time moves on, idle partitions stop holding the watermark back.
                    if (stateful && (roll == Timeout.InfiniteTimeSpan || roll > TimeTick))
                        roll = TimeTick;
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    await Task.WhenAny(_stream.Log.WaitForAsync(offset, idle.Token), wake, Task.Delay(roll, idle.Token));
                    idle.Cancel();
                    cancellationToken.ThrowIfCancellationRequested();
                    if (stateful)
                        await AdvanceTimeAsync(offset, cancellationToken);
                }

                foreach (var sink in _sinks)
                {
                    var definition = sink.Definition;
                    bool due = offset > sink.CommittedOffset && (
                        sink.Rows >= (definition.MaxRows ?? long.MaxValue) || sink.Bytes >= definition.MaxFileBytes
                        || Stopwatch.GetElapsedTime(sink.OpenedAt) >= TimeSpan.FromSeconds(definition.IntervalSeconds) || FlushDue(offset));
                    if (due)
                        await CommitAsync(sink, offset, cancellationToken);
                    else if (offset == sink.CommittedOffset && sink.Rows == 0)
                        sink.OpenedAt = Stopwatch.GetTimestamp();
                }
                if (offset == CommittedOffset)
                    CompleteFlushes();
            }
        }
        finally
        {
            foreach (var sink in _sinks)
            {
                sink.Pending.Clear();
                if (sink.Writer is { } writer)
                {
                    sink.Writer = null;
                    await writer.DisposeAsync();
                }
            }
        }
    }

    /// <summary>
    /// How long to wait for more records: until the earliest roll by interval of a sink holding uncommitted records
    /// (zero: one is due now), or for ever when every sink has committed up to <paramref name="offset"/>.
    /// </summary>
    private TimeSpan NextRoll(long offset)
    {
        var soonest = Timeout.InfiniteTimeSpan;
        foreach (var sink in _sinks)
        {
            if (offset <= sink.CommittedOffset)
                continue;
            var remaining = TimeSpan.FromSeconds(sink.Definition.IntervalSeconds) - Stopwatch.GetElapsedTime(sink.OpenedAt);
            if (remaining <= TimeSpan.Zero)
                return TimeSpan.Zero;
            if (soonest == Timeout.InfiniteTimeSpan || remaining < soonest)
                soonest = remaining;
        }
        return soonest;
    }

    /// <summary>
    /// One log batch through every statement whose sink has not committed it, into the sinks' open files; the records
    /// the statements fail on go to the dead-letter sink when it has not committed the batch either.
    /// </summary>
    private async Task ProcessAsync(long firstOffset, long bytes, RecordBatch records, CancellationToken cancellationToken)
    {
        bool deadLetters = _deadLetter is not null && Needs(_deadLetter, firstOffset);
        long written = 0;
        if (Lookups is not null)
            await Lookups.RefreshAsync(cancellationToken);
        foreach (var sink in _statements)
        {
            if (!Needs(sink, firstOffset))
            {
                // Already committed in this sink (it is ahead after a restart): only its failures may still be owed. Never
                // for a statement with state: the dead-letter sink commits before it (CommitAsync), so it is never behind.
                if (deadLetters && !sink.Execution!.HasState)
                    FindFailures(sink, records);
                continue;
            }
            var execution = _kafkaBatch is { } b ? sink.ExecutionFor(b.Partition) : sink.Execution!;
            long dropped = execution.Errors.Total;
            Push(execution, records);
            if (execution.Errors.Total != dropped)
            {
                sink.ReportDropped((reason, count) => _metrics.Add("dataplane_pipeline_records_dropped_total",
                    "Records a statement failed on (a CAST that does not convert, a division by zero, later than the watermark...) and dropped, by sink and reason.",
                    PipelineMetrics.Labels(("pipeline", _definition.Name), ("sink", sink.Name), ("reason", reason.Code)), count));
                if (deadLetters && execution.HasState)
                    FindStatefulFailures(sink, execution, records, execution.Errors.Total - dropped);
                else if (deadLetters)
                    FindFailures(sink, records);
            }
            sink.Bytes += bytes;
            written += await WritePendingAsync(sink, cancellationToken);
        }
        if (deadLetters)
        {
            var sink = _deadLetter!;
            if (!_deadLetters.IsEmpty)
            {
                var failed = _logBatch is { } l ? _deadLetters.Take(records, l.FirstOffset, BatchStream.Definition.Schemaless, BatchStream.Name)
                    : _deadLetters.Take(records, firstOffset, _stream.Definition.Schemaless);
                sink.Writer ??= sink.Target.OpenWriter(WriterOptions(sink));
                await sink.Writer.WriteAsync(sink.Match.Apply(failed), cancellationToken);
                sink.Rows += failed.Length;
                sink.CountOut(failed.Length);
            }
            sink.Bytes += bytes;
        }
        Interlocked.Add(ref _recordsIn, records.Length);
        Interlocked.Add(ref _recordsOut, written);
        _metrics.Add("dataplane_pipeline_records_out_total", "Records the pipeline's statements wrote to their sinks.", _labels, written);
        _metrics.Add("dataplane_pipeline_bytes_in_total", "Log bytes (Arrow IPC) the pipeline read.", _labels, bytes);
    }

    // The Kafka partitions of the batch in hand's records, as runs (none: one partition), and what the statement dropped of them on arrival.
    private readonly List<(int Partition, int Count)> _runs = [];
    private readonly List<(int Row, RowErrorReason Reason)> _arrival = [];

    /// <summary>
    /// The batch into a statement as its stream's records: a batch a Kafka source appended as runs of each partition's
    /// records (<see cref="KafkaSourcePartitions"/>), so the stream's watermark advances per partition and is their
    /// least (idle partitions left out after the idle timeout); a Kafka-backed stream's batch as its partition's; any other
    /// batch as one partition's. With runs, the rows
    /// the statement's watermark dropped are gathered by their row in the whole batch.
    /// </summary>
    private void Push(SqlExecution execution, RecordBatch records)
    {
        var stream = BatchStream.Name;
        if (!KafkaSourcePartitions.TryRead(records, _runs))
        {
            // A Kafka-backed stream's batch is one partition's.
            execution.Push(stream, records, _kafkaBatch?.Partition ?? 0);
            return;
        }
        _arrival.Clear();
        int row = 0;
        foreach (var (partition, count) in _runs)
        {
            execution.Push(stream, count == records.Length ? records : records.Slice(row, count), partition);
            foreach (var (dropped, reason) in execution.DroppedOnArrival(stream))
                _arrival.Add((row + dropped, reason));
            row += count;
        }
    }

    /// <summary>The statement's output batches in hand, into the sink's open files; answers the rows written.</summary>
    private async Task<long> WritePendingAsync(PipelineSink sink, CancellationToken cancellationToken)
    {
        long rows = 0;
        foreach (var output in sink.Pending)
        {
            if (output.Length == 0)
                continue;
            sink.Writer ??= sink.Target.OpenWriter(WriterOptions(sink));
            await sink.Writer.WriteAsync(sink.Match.Apply(output), cancellationToken);
            rows += output.Length;
        }
        sink.Pending.Clear();
        sink.Rows += rows;
        sink.CountOut(rows);
        return rows;
    }

    /// <summary>How often a pipeline with windows moves processing time on while no record arrives.</summary>
    private static readonly TimeSpan TimeTick = TimeSpan.FromSeconds(1);

    /// <summary>Moves time on in the statements with state that have caught up with <paramref name="offset"/> (one still
    /// replaying up to its last commit must not emit what that commit already holds), and writes what closed.</summary>
    private async Task AdvanceTimeAsync(long offset, CancellationToken cancellationToken)
    {
        long written = 0;
        foreach (var sink in _statements)
        {
            if (sink.Partitions is { } partitions)
            {
                // Each partition on its own: one still replaying up to its last commit waits.
                foreach (var (partition, execution) in partitions)
                    if (_kafka!.Position(partition) >= sink.Kafka!.Committed(partition))
                    {
                        execution.AdvanceTime();
                        written += await WritePendingAsync(sink, cancellationToken);
                    }
            }
            else if (sink.Execution is { HasState: true } execution && (sink.Kafka?.CaughtUp(_kafka!) ?? sink.Streams?.CaughtUp(_logs!) ?? offset >= sink.CommittedOffset))
            {
                execution.AdvanceTime();
                written += await WritePendingAsync(sink, cancellationToken);
            }
        }
        _advancedAt = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _recordsOut, written);
    }

    /// <summary>
    /// The records of the batch a statement with state dropped, for the dead-letter sink: those its watermark dropped
    /// on arrival (late, no event time), as the running execution saw them; and when it dropped more (a CAST before the
    /// window...), those found by a new execution of the statement whose records skip the watermark, dropped after.
    /// </summary>
    private void FindStatefulFailures(PipelineSink sink, SqlExecution execution, RecordBatch records, long dropped)
    {
        var arrival = _runs.Count > 0 ? _arrival : execution.DroppedOnArrival(BatchStream.Name);
        foreach (var (row, reason) in arrival)
            _deadLetters.Add(sink.Name, row, reason);
        if (dropped <= arrival.Count)
            return;
        var late = arrival.Select(a => a.Row).ToHashSet();
        var probe = _program.Start(sink.Statement, static _ => { }, lookupRows: LookupRows);
        foreach (var (row, reason) in probe.FindFailures(BatchStream.Name, records, admitted: true))
            if (!late.Contains(row))
                _deadLetters.Add(sink.Name, row, reason);
    }

    /// <summary>
    /// A statement with state continues from the checkpoint its sink's last commit names (found by the ancestry walk,
    /// through other writers' snapshots and expiry's markers), so its windows hold what they held at that commit's offsets
    /// and the run replays the log from there. Without a last commit it starts empty.
    /// </summary>
    private async Task RestoreAsync(PipelineSink sink, CancellationToken cancellationToken)
    {
        var execution = sink.Execution!;
        sink.LastCheckpoint = null;
        if (!execution.HasState || sink.LastCommit is not { } last)
            return;
        if (last.Checkpoint is not { } checkpoint)
        {
            _logger.LogWarning("Pipeline {Pipeline}: sink {Sink}'s last commit ({Commit}, stream offsets up to {Offset}) names no checkpoint of operator state " +
                "(a statement without windows or watermark wrote it); the statement's windows start empty there", _definition.Name, sink.Name, last.Id, last.EndOffset);
            return;
        }
        if (PartitionCheckpoints.IsFolder(checkpoint))
            throw new InvalidOperationException($"Sink '{sink.Name}''s last commit ({last.Id}) names the checkpoint {checkpoint}, which holds each Kafka partition's state apart " +
                $"(written while the pipeline's state followed the stream's key); {_scaleOut?.Text ?? "it reads no Kafka-backed stream"} now. Give the changed pipeline a sink of its own.");
        var started = Stopwatch.GetTimestamp();
        long bytes = await RestoreStateAsync(sink, execution, checkpoint, $"last commit ({last.Id}, stream offsets up to {last.EndOffset})", cancellationToken);
        sink.LastCheckpoint = new SinkCheckpoint(checkpoint, bytes, last.EndOffset, Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow, Restored: true);
    }

    /// <summary>Restores <paramref name="execution"/> from the checkpoint at <paramref name="location"/> (named by the sink's
    /// <paramref name="commit"/>, for errors); answers its size.</summary>
    private async Task<long> RestoreStateAsync(PipelineSink sink, SqlExecution execution, string location, string commit, CancellationToken cancellationToken)
    {
        try
        {
            long bytes = await PipelineCheckpoint.RestoreAsync(sink.Target, execution, location, _fingerprint, cancellationToken);
            execution.RestartIdleTimeouts();
            return bytes;
        }
        catch (Storage.ObjectNotFoundException e)
        {
            throw new InvalidOperationException($"Sink '{sink.Name}''s {commit} names the checkpoint {location}, " +
                "which is gone, or a file of it is (deleted outside DataPlane?): the statement's windows cannot be restored, and starting them empty would lose what they held.", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException($"Sink '{sink.Name}''s {commit} names the checkpoint {location}, which is not the state of this " +
                $"pipeline's statement ({e.Message}): a changed statement needs a sink of its own.", e);
        }
    }

    /// <summary>Which records of the batch the sink's statement fails on, for the dead-letter sink: found by a separate execution of that statement alone.</summary>
    private void FindFailures(PipelineSink sink, RecordBatch records)
    {
        var probe = _probes[sink.Statement] ??= _program.Start(sink.Statement, static _ => { }, lookupRows: LookupRows);
        foreach (var (row, reason) in probe.FindFailures(BatchStream.Name, records))
            _deadLetters.Add(sink.Name, row, reason);
    }

    /// <summary>The pipeline's choices where the table (or a files sink's definition) sets no write properties; the target
    /// applies those (TableWriteProperties) when it opens each roll's writer.</summary>
    private static DataFileWriterOptions WriterOptions(PipelineSink sink) => new()
    {
        // Ingestion is CPU-bound and zstd is its largest single cost: level 1 takes about half of level 3's CPU for
        // files a few percent larger (bench/Pipelines: pipelines-stages).
        CompressionLevel = 1,
        TargetFileSizeBytes = sink.Definition.MaxFileBytes,
        RowGroupSizeBytes = Math.Min(sink.Definition.MaxFileBytes, 128L * 1024 * 1024),
        OnNewFile = sink.Journal.RecordAsync,
    };

    /// <summary>
    /// A sink's start of a run: its last commit, the clean-up of what its journal recorded, where it resumes, and its
    /// output checked against the table it writes (which its target has just loaded or created).
    /// </summary>
    private async Task PrepareAsync(PipelineSink sink, CancellationToken cancellationToken)
    {
        var last = await sink.Target.LastCommitAsync(cancellationToken);
        if (_logs is not null)
            CheckStreams(sink, last);
        else if (last is not null && last.Stream != _stream.Name)
            throw new InvalidOperationException($"Sink '{sink.Name}' was last committed from stream '{last.Stream}', not '{_stream.Name}'; give this pipeline its own sink.");
        await RemoveUncommittedAsync(sink, cancellationToken);
        sink.Journal.Reset(sink.Target.Identity ?? throw new InvalidOperationException("The sink target names what it writes once its last commit is read."));
        // A Kafka-backed stream's run counts its offsets from 0; each partition's position is the sink's (OpenKafka).
        long start = _stream.Definition.KafkaBacked ? 0 : _logs is not null ? await ResumeStreamsAsync(sink, last, cancellationToken) : await ResumeOffsetAsync(sink, last, cancellationToken);
        sink.Match = SinkSchemaMatch.For(sink.Output, await sink.Target.TableSchemaAsync(cancellationToken), Describe(sink), sink.UpdatingKeys);
        sink.LastCommit = last;
        sink.CommittedOffset = start;
        sink.Rows = sink.Bytes = 0;
        sink.OpenedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>How messages name what writes a sink: <c>INSERT INTO events_table (table default.events)</c>.</summary>
    public static string Describe(PipelineSink sink) =>
        (sink.IsDeadLetter ? $"the dead-letter sink '{sink.Name}'" : $"INSERT INTO {sink.Name}") +
        (sink.Definition.Type == SinkDefinition.Iceberg ? $" (table {sink.Definition.Namespace}.{sink.Definition.Table})" : "");

    /// <summary>
    /// Where a sink starts reading: after its last commit. When the log no longer holds that offset, the run may go on
    /// only if the sink did commit up to where the log starts, in snapshots a rollback took out of the table's
    /// history: those records are not in the current snapshot, but were delivered and stay in the rolled-back ones.
    /// Otherwise records would be skipped that the sink never committed anywhere, and the run fails instead.
    /// </summary>
    private async Task<long> ResumeOffsetAsync(PipelineSink sink, SinkCommit? last, CancellationToken cancellationToken)
    {
        long logStart = _stream.Log.StartOffset;
        long start = last?.EndOffset ?? logStart;
        if (start >= logStart)
            return start;
        var furthest = await sink.Target.FurthestCommitAsync(cancellationToken);
        if (furthest is null || furthest.Stream != _stream.Name || furthest.EndOffset < logStart)
            throw new InvalidOperationException($"Sink '{sink.Name}' resumes at offset {start} but stream '{_stream.Name}' starts at {logStart}: records were released before this sink committed them.");
        _logger.LogWarning(
            "Pipeline {Pipeline}: sink {Sink}'s commits of stream offsets {Start} to {Furthest} were rolled back out of the table's history (up to snapshot {Snapshot}), " +
            "and the stream's log now starts at {LogStart}: the offsets before it are not delivered again (they remain in the rolled-back snapshots); resuming there",
            _definition.Name, sink.Name, start, furthest.EndOffset, furthest.Id, logStart);
        return logStart;
    }

    /// <summary>
    /// Deletes the files a sink's journal recorded that the target proves unreferenced (a roll cut short by a crash, a
    /// stop or a failed commit), and says which and why. Called before a run starts, and by
    /// <see cref="RemoveUncommittedAfterStopAsync"/>; the journal is cleared only by the caller.
    /// </summary>
    private async Task RemoveUncommittedAsync(PipelineSink sink, CancellationToken cancellationToken)
    {
        var (recordedFor, keys) = sink.Journal.Read();
        if (keys.Count == 0)
            return;
        var result = await sink.Target.RemoveUncommittedAsync(recordedFor, keys, cancellationToken);
        var definition = sink.Definition;
        if (result.Removed.Count > 0)
        {
            var proof = definition.Type == SinkDefinition.Iceberg
                ? $"no snapshot of table {definition.Namespace}.{definition.Table} references them (current, older, branches and tags; data and delete files)"
                : $"no commit of folder {definition.Path} names them";
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
    /// After the runner stopped for good (its pipeline is deleted): removes what its sinks' journals recorded that no
    /// commit references, then the journals. When the check fails (the catalog cannot be read), a journal stays, for a
    /// pipeline created again under the same name to finish.
    /// </summary>
    public async Task RemoveUncommittedAfterStopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) == 0)
            throw new InvalidOperationException($"Pipeline '{_definition.Name}' is still running.");
        foreach (var sink in _sinks)
        {
            try
            {
                await RemoveUncommittedAsync(sink, cancellationToken);
                // Safe: the sink's own journal in this pipeline, its runner stopped so nothing records into it, and every key
                // it named was settled just above: removed, kept as committed, or (its table gone or replaced) left to orphan removal.
                sink.Journal.Delete();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Pipeline {Pipeline}: could not check the files its journal {Journal} recorded; it stays for a pipeline of the same name to finish",
                    _definition.Name, sink.Journal.Path);
            }
        }
    }

    private bool FlushDue(long offset)
    {
        lock (_gate)
            return _flushes.Count > 0 && _flushes.Min(f => f.Target) <= offset;
    }

    private async Task CommitAsync(PipelineSink sink, long offset, CancellationToken cancellationToken)
    {
        var execution = sink.Execution;
        // The dead-letter sink commits first, up to here, so it is never behind a statement with state: the late records
        // it owes are known only to the running execution, not to one restored from a later checkpoint.
        if (execution is { HasState: true } && _deadLetter is { } deadLetter && deadLetter.CommittedOffset < offset)
            await CommitAsync(deadLetter, offset, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        // An updating aggregate's changed keys: their current rows go into this commit (and its checkpoint holds no change
        // left to emit), replacing their older rows.
        if (execution is not null && sink.UpdatingKeys is not null)
        {
            foreach (var e in sink.Executions)
                e.Flush();
            Interlocked.Add(ref _recordsOut, await WritePendingAsync(sink, cancellationToken));
        }
        IReadOnlyList<SinkDataFile> files = [];
        if (sink.Writer is { } writer)
        {
            files = [.. await writer.CompleteAsync(cancellationToken)];
            sink.Writer = null;
            await writer.DisposeAsync();
        }
        var (checkpointKey, checkpointBytes, checkpointTime) = sink.Partitions is { } partitions ? await WritePartitionCheckpointsAsync(sink, partitions, offset, cancellationToken)
            : execution is { HasState: true } ? await WriteCheckpointAsync(sink, execution, offset, cancellationToken) : default;
        var kafka = sink.Kafka?.ToCommit(_kafka!);
        var streams = sink.Streams?.ToCommit(_logs!);
        var commit = streams is not null
            ? await sink.Target.CommitAsync(files, StreamOffsets.Names(_streams.Select(s => s.Name)), streams.StartTotal, streams.EndTotal, checkpointKey, sink.LastCommit, cancellationToken, streams: streams)
            : kafka is null
            ? await sink.Target.CommitAsync(files, _stream.Name, sink.CommittedOffset, offset, checkpointKey, sink.LastCommit, cancellationToken)
            : await sink.Target.CommitAsync(files, _stream.Name, kafka.StartTotal, kafka.EndTotal, checkpointKey, sink.LastCommit, cancellationToken, kafka);
        sink.Streams?.MarkCommitted();
        if (kafka is not null)
            sink.Kafka!.MarkCommitted(kafka);
        if (commit.Checkpoint is { } checkpoint)
            sink.LastCheckpoint = new SinkCheckpoint(checkpoint, checkpointBytes, offset, checkpointTime, DateTimeOffset.UtcNow, Restored: false);
        // Committed: the roll's files are the table's now. (A crash before this leaves them recorded; the next start finds them referenced and keeps them.)
        sink.Journal.Reset(sink.Target.Identity!);
        sink.LastCommit = commit;
        sink.CommittedOffset = offset;
        sink.Rows = sink.Bytes = 0;
        sink.OpenedAt = Stopwatch.GetTimestamp();
        long committed = _sinks.Min(s => s.CommittedOffset);
        Interlocked.Exchange(ref _committed, committed);
        if (_logs is not null)
            ReleaseLogs();
        else if (_kafka is null)
            _stream.Commit(_definition.Name, committed);
        else
            _kafka.StorePositions(KafkaSinkOffsets.Least(_sinks.Select(s => s.Kafka!), _kafka.PartitionCount));
        _metrics.Observe("dataplane_pipeline_commit_seconds", "Time to close a roll's files and commit them.", _labels, Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.Add("dataplane_pipeline_files_written_total", "Data files committed by the pipeline.", _labels, files.Count);
        _metrics.Add("dataplane_pipeline_bytes_out_total", "Bytes of data files committed by the pipeline.", _labels, files.Sum(f => f.File.FileSizeInBytes));
        _metrics.Add("dataplane_pipeline_commits_total", "Commits (snapshots) made by the pipeline, in all its sinks.", _labels, 1);
        CompleteFlushes();
    }

    /// <summary>
    /// The statement's state at <paramref name="offset"/>, written as a new checkpoint folder next to the sink's files, a
    /// file per shard streamed to the store (<see cref="PipelineCheckpoint"/>; each recorded in the journal first, so
    /// orphan removal keeps it until the commit names it, and a restart deletes it when no commit does). Answers the
    /// folder's key, the bytes and the time taken. <paramref name="folder"/>: where (default: a new folder of its own).
    /// </summary>
    private async Task<(string Key, long Bytes, TimeSpan Duration)> WriteCheckpointAsync(PipelineSink sink, SqlExecution execution, long offset, CancellationToken cancellationToken,
        string? folder = null)
    {
        var started = Stopwatch.GetTimestamp();
        var (key, bytes) = await PipelineCheckpoint.WriteAsync(sink.Target, sink.Journal, execution, offset, _fingerprint, _maxStateBytes, written =>
            new InvalidOperationException($"{Describe(sink)} holds {written:N0} bytes of operator state at stream offset {offset:N0} (or more), over the budget of " +
                $"{_maxStateBytes:N0} (setting Pipelines:{nameof(PipelinesOptions.MaxStateBytes)}, environment DATAPLANE_PIPELINES__MAXSTATEBYTES); its commit is refused. " +
                "Fewer keys, shorter windows or a shorter watermark delay keep less open; or raise the budget."), cancellationToken, folder);
        var duration = Stopwatch.GetElapsedTime(started);
        _metrics.Observe("dataplane_pipeline_checkpoint_seconds", "Time to write a statement's operator state for a commit.", _labels, duration.TotalSeconds);
        _metrics.Add("dataplane_pipeline_checkpoint_bytes_total", "Bytes of operator-state checkpoints the pipeline wrote.", _labels, bytes);
        return (key, bytes, duration);
    }

    /// <summary>
    /// The state of each partition this worker has, at the offsets the commit names for it, as one file per partition in a
    /// new folder (<see cref="PartitionCheckpoints"/>) that the commit names: a worker later given a partition restores it
    /// from the last commit naming that partition (<see cref="RestorePartitionsAsync"/>). Answers the folder, the bytes in
    /// all, and the time taken.
    /// </summary>
    private async Task<(string Key, long Bytes, TimeSpan Duration)> WritePartitionCheckpointsAsync(PipelineSink sink, IReadOnlyDictionary<int, SqlExecution> partitions,
        long offset, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string folder = PartitionCheckpoints.Folder(sink.Target.NewCheckpointKey(offset));
        long bytes = 0;
        foreach (var (partition, execution) in partitions)
            bytes += (await WriteCheckpointAsync(sink, execution, offset, cancellationToken, PartitionCheckpoints.Of(folder, partition))).Bytes;
        return (folder, bytes, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// A statement whose state follows the partitions: an execution per partition the group gave this worker, each
    /// restored from the checkpoint of the sink's last commit naming that partition (found by the ancestry walk, as its
    /// offsets are, <see cref="KafkaOffsets.Merge"/>), so it holds that partition's windows at the offset the run resumes
    /// it from. A partition no commit names starts empty. Each gets an equal share of the state's memory budget.
    /// </summary>
    private async Task RestorePartitionsAsync(PipelineSink sink, IReadOnlyList<int> given, CancellationToken cancellationToken)
    {
        sink.LastCheckpoint = null;
        var errors = sink.Execution!.Errors;
        var state = _state.MemoryBytes == long.MaxValue || given.Count <= 1 ? _state : _state with { MemoryBytes = _state.MemoryBytes / given.Count };
        var partitions = new SortedDictionary<int, SqlExecution>();
        foreach (int p in given)
            partitions[p] = _program.Start(sink.Statement, sink.Pending.Add, state: state, lookupRows: LookupRows, errors: errors);
        sink.StartPartitions(partitions);
        var kafka = sink.LastCommit?.Kafka;
        if (kafka is null || kafka.Topic != _kafka!.Topic)
            return;
        var started = Stopwatch.GetTimestamp();
        long bytes = 0;
        string? restored = null;
        foreach (var (p, execution) in partitions)
        {
            if (!kafka.Partitions.TryGetValue(p, out var range))
                continue;
            if (!kafka.Checkpoints.TryGetValue(p, out var checkpoint))
            {
                _logger.LogWarning("Pipeline {Pipeline}: sink {Sink}'s last commit naming partition {Partition} (offsets up to {Offset}) names no checkpoint of operator state; " +
                    "the statement's windows of that partition start empty there", _definition.Name, sink.Name, p, range.End);
                continue;
            }
            if (!PartitionCheckpoints.IsFolder(checkpoint))
                throw new InvalidOperationException($"Sink '{sink.Name}''s last commit naming partition {p} of Kafka topic '{kafka.Topic}' names the checkpoint {checkpoint}, which holds " +
                    "every partition's state at once (written while the pipeline ran on one worker): it cannot be split by partition. Give the pipeline a new sink to run it on every worker.");
            bytes += await RestoreStateAsync(sink, execution, PartitionCheckpoints.Of(checkpoint, p), $"its last commit naming partition {p} (offsets up to {range.End})", cancellationToken);
            restored = checkpoint;
        }
        if (restored is not null)
            sink.LastCheckpoint = new SinkCheckpoint(restored, bytes, sink.LastCommit!.EndOffset, Stopwatch.GetElapsedTime(started), DateTimeOffset.UtcNow, Restored: true);
    }

    /// <summary>Whether the batch starting at <paramref name="firstOffset"/> is past the sink's last commit: for a
    /// Kafka-backed stream, the batch in hand's partition and offset against the sink's position there.</summary>
    private bool Needs(PipelineSink sink, long firstOffset) =>
        _kafkaBatch is { } b ? sink.Kafka!.Needs(b.Partition, b.FirstOffset) : _logBatch is { } l ? sink.Streams!.Needs(l.Stream, l.FirstOffset) : sink.Needs(firstOffset);

    private KafkaStreamBatch? _kafkaBatch;
    // When time was last moved on without records: state per partition moves it on each tick while others' records flow.
    private long _advancedAt = Stopwatch.GetTimestamp();
    private static readonly TimeSpan KafkaPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// This run's share of the topic: each partition the group gave this worker assigned at the least of the sinks'
    /// positions in the table (a sink without a commit naming a partition reads it from its first message), with each
    /// sink's position a cut between batches. A statement with state checkpoints it per sink, for every partition at
    /// once, so <paramref name="stateful"/> runs on one worker: the one the group gave partition 0 reads them all.
    /// </summary>
    private void PositionKafka(KafkaStreamInput input, int partitions, bool stateful)
    {
        foreach (var sink in _sinks)
            sink.Kafka = new KafkaSinkOffsets(sink.LastCommit?.Kafka, input.Topic, partitions);
        var start = new long[partitions];
        var cuts = new List<long>[partitions];
        for (int p = 0; p < partitions; p++)
        {
            cuts[p] = [.. _sinks.Select(s => s.Kafka!.Committed(p)).Where(c => c >= 0).Distinct()];
            start[p] = _sinks.Any(s => s.Kafka!.Committed(p) < 0) ? -1 : _sinks.Min(s => s.Kafka!.Committed(p));
        }
        input.Assign(start, cuts, whole: stateful);
        if (stateful)
            _logger.LogInformation("Pipeline {Pipeline} keeps state, checkpointed for every partition at once: it runs on one worker, the one consumer group {Group} gives partition 0, which reads every partition; {Here}",
                _definition.Name, KafkaStreamInput.GroupId(_definition.Name), input.Assigned.Count > 0 ? "this one" : "another one, so it is idle here");
    }

    /// <summary>One batch of the topic through the statements (waiting up to the next roll, a flush, or a short poll); answers the run's offset after it.</summary>
    private async Task<long> ReadKafkaAsync(long offset, bool stateful, CancellationToken cancellationToken)
    {
        var kafka = _kafka!;
        ResolveKafkaFlushes(offset);
        var wait = FlushDue(offset) ? TimeSpan.Zero : NextRoll(offset);
        if (wait == Timeout.InfiniteTimeSpan || wait > KafkaPoll)
            wait = KafkaPoll;
        if (!kafka.TryRead(wait, cancellationToken, out var batch))
        {
            if (stateful)
                await AdvanceTimeAsync(offset, cancellationToken);
            return offset;
        }
        long end = offset + batch.Messages;
        _kafkaBatch = batch;
        try
        {
            if (batch.Records is { } records)
                await ProcessAsync(offset, batch.Bytes, records, cancellationToken);
            foreach (var sink in _sinks)
            {
                if (sink.Kafka!.Needs(batch.Partition, batch.FirstOffset))
                    sink.Kafka.Advance(batch.Partition, batch.EndOffset);
                else if (sink.Kafka.Clean && sink.Rows == 0 && sink.Writer is null)
                    sink.CommittedOffset = end; // ahead here, nothing to commit: not a reason for an empty commit
            }
        }
        finally
        {
            _kafkaBatch = null;
        }
        Interlocked.Exchange(ref _committed, _sinks.Min(s => s.CommittedOffset));
        Interlocked.Exchange(ref _read, end);
        // A partition whose records stopped while the others' flow still has its processing time and idle timeout move on.
        if (stateful && _statements.Any(s => s.Partitions is not null) && Stopwatch.GetElapsedTime(_advancedAt) >= TimeTick)
            await AdvanceTimeAsync(end, cancellationToken);
        return end;
    }

    /// <summary>Asks the broker for the high watermarks of new flushes, and gives those the run has read up to their target: here.</summary>
    private void ResolveKafkaFlushes(long offset)
    {
        var kafka = _kafka!;
        List<(long[]? Highs, TaskCompletionSource<SinkCommit?> Done)> flushes;
        lock (_gate)
            flushes = [.. _kafkaFlushes];
        if (flushes.Count == 0)
            return;
        long[]? highs = flushes.Any(f => f.Highs is null) ? kafka.HighWatermarks() : null;
        lock (_gate)
        {
            for (int i = _kafkaFlushes.Count - 1; i >= 0; i--)
            {
                var f = _kafkaFlushes[i];
                var target = f.Highs ?? highs!;
                // The partitions this run holds: a flush asked before a rebalance noted others, which another worker now flushes.
                if (kafka.Assigned.All(p => p >= target.Length || kafka.Position(p) >= target[p]))
                {
                    _kafkaFlushes.RemoveAt(i);
                    _flushes.Add((offset, f.Done));
                }
                else if (f.Highs is null)
                    _kafkaFlushes[i] = (target, f.Done);
            }
        }
    }

    /// <summary>A new run counts its offsets from 0 again: flushes waiting for the last run's go back to their high watermarks.</summary>
    private void RestartKafkaFlushes()
    {
        lock (_gate)
        {
            foreach (var f in _flushes)
                _kafkaFlushes.Add((null, f.Done));
            _flushes.Clear();
        }
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
            failed = [.. _flushes.Select(f => f.Done).Concat(_kafkaFlushes.Select(f => f.Done)).Concat(_logFlushes.Select(f => f.Done))];
            _flushes.Clear();
            _kafkaFlushes.Clear();
            _logFlushes.Clear();
        }
        foreach (var f in failed)
            f.TrySetException(error);
    }

    /// <summary>The stream of the batch in hand.</summary>
    private IngestStream BatchStream => _logBatch is { } l ? _streams[l.Stream] : _stream;

    /// <summary>
    /// A sink of a pipeline over several streams continues from a commit of those streams: one naming each it read
    /// (<see cref="StreamOffsets"/>), or one of a pipeline that read one of them alone, whose others it then reads from
    /// their logs' start. A commit naming a stream the pipeline does not read is another pipeline's: refused.
    /// </summary>
    private void CheckStreams(PipelineSink sink, SinkCommit? last)
    {
        if (last is null)
            return;
        var names = _streams.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var other = StreamOffsets.Of(last).Streams.Keys.Where(n => !names.Contains(n)).ToList();
        if (other.Count > 0)
            throw new InvalidOperationException($"Sink '{sink.Name}' was last committed from stream(s) {string.Join(", ", other.Select(o => $"'{o}'"))}, which this pipeline " +
                $"does not read ({string.Join(", ", names)}); give this pipeline its own sink.");
    }

    /// <summary>
    /// A sink's position in each log of a pipeline over several streams: where its last commit left the stream, or the
    /// log's start for a stream it never committed. A log that no longer holds that offset is refused unless the sink
    /// committed past the log's start in snapshots a rollback took out, as for one stream (<see cref="ResumeOffsetAsync"/>).
    /// Answers 0: the run counts the records it reads.
    /// </summary>
    private async Task<long> ResumeStreamsAsync(PipelineSink sink, SinkCommit? last, CancellationToken cancellationToken)
    {
        var ends = last is null ? null : StreamOffsets.Of(last).Streams;
        var committed = new long[_streams.Count];
        for (int i = 0; i < _streams.Count; i++)
        {
            var stream = _streams[i];
            long logStart = stream.Log.StartOffset;
            committed[i] = ends is not null && ends.TryGetValue(stream.Name, out var range) ? range.End : logStart;
            if (committed[i] >= logStart)
                continue;
            var furthest = await sink.Target.FurthestCommitAsync(cancellationToken);
            if (furthest is null || !StreamOffsets.Of(furthest).Streams.TryGetValue(stream.Name, out var reached) || reached.End < logStart)
                throw new InvalidOperationException($"Sink '{sink.Name}' resumes stream '{stream.Name}' at offset {committed[i]} but its log starts at {logStart}: records were released before this sink committed them.");
            _logger.LogWarning("Pipeline {Pipeline}: sink {Sink}'s commits of stream {Stream} up to offset {Furthest} were rolled back out of the table's history, and the stream's log " +
                "now starts at {LogStart}: the offsets before it are not delivered again (they remain in the rolled-back snapshots); resuming there",
                _definition.Name, sink.Name, stream.Name, reached.End, logStart);
            committed[i] = logStart;
        }
        sink.Streams = new StreamSinkOffsets(committed);
        return 0;
    }

    /// <summary>A run of a pipeline over several streams starts each log at the least of its sinks' positions, and releases what is before it;
    /// flushes waiting for the last run's offsets wait for the logs' ends again.</summary>
    private void StartLogs()
    {
        var start = StreamSinkOffsets.Least(_sinks.Select(s => s.Streams!), _streams.Count);
        _logs!.Start(start);
        ReleaseLogs();
        lock (_gate)
        {
            foreach (var f in _flushes)
                _logFlushes.Add((null, f.Done));
            _flushes.Clear();
        }
    }

    /// <summary>Each log keeps what the furthest-behind sink still needs of it.</summary>
    private void ReleaseLogs()
    {
        var least = StreamSinkOffsets.Least(_sinks.Select(s => s.Streams!), _streams.Count);
        for (int i = 0; i < _streams.Count; i++)
            _streams[i].Commit(_definition.Name, least[i]);
    }

    /// <summary>Flushes whose logs' ends the run has read up to become due here; those of an earlier run take the logs' ends now.</summary>
    private void ResolveLogFlushes(long offset)
    {
        lock (_gate)
        {
            for (int i = _logFlushes.Count - 1; i >= 0; i--)
            {
                var (ends, done) = _logFlushes[i];
                ends ??= _logs!.Ends();
                if (_logs!.Reached(ends))
                {
                    _logFlushes.RemoveAt(i);
                    _flushes.Add((offset, done));
                }
                else
                    _logFlushes[i] = (ends, done);
            }
        }
    }

    /// <summary>
    /// A pipeline over several streams: one batch of the next stream in turn through the statements, or, with nothing to
    /// read, a wait for records in any log, a flush, the first sink's roll by interval, or (with windows) the next tick of
    /// processing time. Answers the run's offset after it.
    /// </summary>
    private async Task<long> ReadLogsAsync(long offset, bool stateful, Task wake, CancellationToken cancellationToken)
    {
        var logs = _logs!;
        ResolveLogFlushes(offset);
        if (!logs.TryRead(out int stream, out var batch))
        {
            if (!FlushDue(offset) && NextRoll(offset) is var roll && roll != TimeSpan.Zero)
            {
                if (stateful && (roll == Timeout.InfiniteTimeSpan || roll > TimeTick))
                    roll = TimeTick;
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(logs.WaitForAnyAsync(idle.Token), wake, Task.Delay(roll, idle.Token));
                idle.Cancel();
                cancellationToken.ThrowIfCancellationRequested();
                if (stateful)
                    await AdvanceTimeAsync(offset, cancellationToken);
            }
            return offset;
        }
        long end = offset + batch.RecordCount;
        _logBatch = (stream, batch.FirstOffset);
        try
        {
            using var reader = new ArrowStreamReader(batch.Payload);
            using var records = reader.ReadNextRecordBatch();
            await ProcessAsync(offset, batch.Payload.Length, records, cancellationToken);
            foreach (var sink in _sinks)
            {
                if (sink.Streams!.Needs(stream, batch.FirstOffset))
                    sink.Streams.Advance(stream, batch.EndOffset);
                else if (sink.Streams.Clean && sink.Rows == 0 && sink.Writer is null)
                    sink.CommittedOffset = end; // ahead here, nothing to commit: not a reason for an empty commit
            }
        }
        finally
        {
            _logBatch = null;
            batch.Release();
        }
        logs.Advance(stream, batch.EndOffset);
        Interlocked.Exchange(ref _committed, _sinks.Min(s => s.CommittedOffset));
        Interlocked.Exchange(ref _read, end);
        return end;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stop.Cancel();
        try { await _run; } catch (OperationCanceledException) { }
        foreach (var sink in _statements)
            sink.DisposeExecutions();
        FailFlushes(new InvalidOperationException($"Pipeline '{_definition.Name}' stopped before the flush completed."));
        _stop.Dispose();
    }
}
