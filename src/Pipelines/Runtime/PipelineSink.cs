using System.Diagnostics;
using Apache.Arrow;
using DataPlane.Pipelines.Sinks;
using DataPlane.SqlTransforms.Execution;
using ArrowSchema = Apache.Arrow.Schema;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// One sink of a pipeline: the statement that feeds it (or the pipeline's failures, for its dead-letter sink), its target,
/// its journal of uncommitted files, and its own commit state. Each sink commits on its own rolling policy and resumes
/// from its own last commit, so sinks of one pipeline may stand at different offsets of the one log it reads.
/// Touched by the runner's thread, except the counters and <see cref="CommittedOffset"/> that status reads.
/// </summary>
internal sealed class PipelineSink(SinkDefinition definition, int statement, ArrowSchema output, ISinkTarget target, UncommittedFileJournal journal)
{
    private long _committed;
    private long _recordsOut;

    public SinkDefinition Definition => definition;
    public string Name => definition.Name;
    /// <summary>The index of the statement that writes this sink; -1 for the dead-letter sink.</summary>
    public int Statement => statement;
    public bool IsDeadLetter => statement < 0;
    /// <summary>What the statement outputs (Arrow, no field ids).</summary>
    public ArrowSchema Output => output;
    public ISinkTarget Target => target;
    /// <summary>An updating aggregate's keys (GROUP BY without a window): each commit first flushes the changed keys' rows,
    /// which the target writes over their older rows. Null for append-only output.</summary>
    public IReadOnlyList<string>? UpdatingKeys { get; init; }
    public UncommittedFileJournal Journal => journal;

    public SinkCommit? LastCommit { get; set; }
    /// <summary>A Kafka-backed stream's per-partition positions of this sink in the current run; null for a local log.</summary>
    public KafkaSinkOffsets? Kafka { get; set; }
    /// <summary>A pipeline over several streams: this sink's position in each stream's log in the current run; null for one stream.</summary>
    public StreamSinkOffsets? Streams { get; set; }
    public long CommittedOffset
    {
        get => Interlocked.Read(ref _committed);
        set => Interlocked.Exchange(ref _committed, value);
    }
    /// <summary>Records written to this sink since the runner started (re-reads after a restart count again).</summary>
    public long RecordsOut => Interlocked.Read(ref _recordsOut);
    public void CountOut(long records) => Interlocked.Add(ref _recordsOut, records);

    // The current run's state.
    public SinkSchemaMatch Match = null!;
    public PartitionedWriter? Writer;
    public long Rows;
    public long Bytes;
    public long OpenedAt = Stopwatch.GetTimestamp();
    /// <summary>The batches the statement produced for the log batch in hand.</summary>
    public readonly List<RecordBatch> Pending = [];

    /// <summary>The last checkpoint of the statement's state this runner wrote or restored (null: none yet, or a stateless statement).</summary>
    public SinkCheckpoint? LastCheckpoint
    {
        get => Volatile.Read(ref _lastCheckpoint);
        set => Volatile.Write(ref _lastCheckpoint, value);
    }
    private SinkCheckpoint? _lastCheckpoint;

    /// <summary>Records the statement dropped as later than its stream's watermark since the runner started.</summary>
    public long LateRecords => Dropped().Where(d => d.Reason.Code == SqlTransforms.SqlExecution.LateRecord.Code).Sum(d => d.Count);

    /// <summary>The statement's running operators in this run (null for the dead-letter sink, or between runs).</summary>
    public SqlTransforms.SqlExecution? Execution
    {
        get { lock (_gate) return _execution; }
    }

    /// <summary>
    /// When the statement's state follows a keyed topic's partitions (<see cref="ScaleOut"/>): its execution for each
    /// partition this worker reads in this run, each with that partition's state and watermark, counting the records they
    /// drop in <see cref="Execution"/>'s log. Null: <see cref="Execution"/> runs every record.
    /// </summary>
    public IReadOnlyDictionary<int, SqlTransforms.SqlExecution>? Partitions
    {
        get { lock (_gate) return _partitions; }
    }

    /// <summary>The execution that runs the records of <paramref name="partition"/>.</summary>
    public SqlTransforms.SqlExecution ExecutionFor(int partition) =>
        _partitions is { } partitions ? partitions[partition] : _execution ?? throw new InvalidOperationException("The run has not started.");

    /// <summary>Every execution of the run: each partition's, or the one.</summary>
    public IEnumerable<SqlTransforms.SqlExecution> Executions =>
        _partitions is { } partitions ? partitions.Values : _execution is { } execution ? [execution] : [];

    /// <summary>The watermark of <paramref name="source"/> in the run (microseconds; null before one): with state per
    /// partition, the least of the partitions' that have one.</summary>
    public long? Watermark(string source)
    {
        lock (_gate)
            return _partitions is { } partitions ? partitions.Values.Select(e => e.Watermark(source)).Min() : _execution?.Watermark(source);
    }

    /// <summary>Starts the run's executions per partition (after <see cref="StartRun"/>, whose execution's log they count in).</summary>
    public void StartPartitions(IReadOnlyDictionary<int, SqlTransforms.SqlExecution> partitions)
    {
        lock (_gate)
            _partitions = partitions;
    }

    /// <summary>Deletes what the run's executions spilled to disk; they must not be used after.</summary>
    public void DisposeExecutions()
    {
        lock (_gate)
        {
            foreach (var e in _partitions?.Values ?? [])
                e.Dispose();
            _execution?.Dispose();
        }
    }

    /// <summary>Whether the log batch starting at <paramref name="offset"/> is past this sink's last commit (not yet written).</summary>
    public bool Needs(long offset) => offset >= CommittedOffset;

    /// <summary>Starts a run's execution; what the previous one dropped stays counted, what it spilled to disk is deleted.</summary>
    public void StartRun(SqlTransforms.SqlExecution? execution)
    {
        lock (_gate)
        {
            if (_execution is not null)
            {
                foreach (var c in _execution.Errors.Snapshot())
                    _droppedBefore[c.Reason.Code] = Merge(c, _droppedBefore.GetValueOrDefault(c.Reason.Code));
                _droppedTotalBefore += _execution.Errors.Total;
                _execution.Dispose();
            }
            foreach (var e in _partitions?.Values ?? [])
                e.Dispose();
            _partitions = null;
            _execution = execution;
            _reported.Clear();
            _reportedTotal = 0;
        }
    }

    /// <summary>The records the statement dropped since the runner started, per reason, with recent examples.</summary>
    public IReadOnlyList<RowErrorCount> Dropped()
    {
        lock (_gate)
        {
            var merged = new Dictionary<string, RowErrorCount>(_droppedBefore, StringComparer.Ordinal);
            foreach (var c in _execution?.Errors.Snapshot() ?? [])
                merged[c.Reason.Code] = Merge(c, merged.GetValueOrDefault(c.Reason.Code));
            return [.. merged.Values.OrderBy(d => d.Reason.Code, StringComparer.Ordinal)];
        }
    }

    public long DroppedTotal
    {
        get { lock (_gate) return _droppedTotalBefore + (_execution?.Errors.Total ?? 0); }
    }

    /// <summary>Hands what the execution dropped since the last call to <paramref name="report"/>, per reason (for the metrics' counters).</summary>
    public void ReportDropped(Action<RowErrorReason, long> report)
    {
        var execution = _execution;
        if (execution is null || execution.Errors.Total == _reportedTotal)
            return;
        _reportedTotal = execution.Errors.Total;
        foreach (var c in execution.Errors.Snapshot())
        {
            long delta = c.Count - _reported.GetValueOrDefault(c.Reason.Code);
            if (delta == 0) continue;
            _reported[c.Reason.Code] = c.Count;
            report(c.Reason, delta);
        }
    }

    private static RowErrorCount Merge(RowErrorCount current, RowErrorCount? before) =>
        before is null ? current : current with { Count = current.Count + before.Count, RecentSamples = current.RecentSamples.Count > 0 ? current.RecentSamples : before.RecentSamples };

    private readonly object _gate = new();
    private SqlTransforms.SqlExecution? _execution;
    private IReadOnlyDictionary<int, SqlTransforms.SqlExecution>? _partitions;
    private readonly Dictionary<string, RowErrorCount> _droppedBefore = new(StringComparer.Ordinal);
    private long _droppedTotalBefore;
    private readonly Dictionary<string, long> _reported = new(StringComparer.Ordinal);
    private long _reportedTotal;
}
