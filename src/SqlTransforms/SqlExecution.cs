using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.State;

namespace DataPlane.SqlTransforms;

/// <summary>
/// A running instance of a program's operators. The caller pushes each source's batches (one thread at a time);
/// results go to the output given at <see cref="SqlProgram.Start"/>. Records that fail to evaluate are dropped and
/// counted in <see cref="Errors"/>, which another thread may read. Disposing it deletes the state it spilled to disk.
/// </summary>
public sealed class SqlExecution : IDisposable
{
    private readonly Dictionary<string, List<Operator>> _scans;
    private readonly List<Operator> _oneRows;
    private readonly IReadOnlyDictionary<string, Schema> _sources;
    private bool _started;
    private bool _pushed;

    internal SqlExecution(Dictionary<string, List<Operator>> scans, List<Operator> oneRows, RowErrorLog errors, IReadOnlyDictionary<string, Schema> sources)
    {
        _scans = scans;
        _oneRows = oneRows;
        _sources = sources;
        Errors = errors;
    }

    public RowErrorLog Errors { get; }

    /// <summary>The reason a record later than its stream's watermark is dropped under.</summary>
    public static RowErrorReason LateRecord => EventTime.WatermarkTracker.Late;

    internal Func<long> Clock { get; init; } = () => 0;
    internal IReadOnlyDictionary<string, EventTime.WatermarkTracker> Trackers { get; init; } = new Dictionary<string, EventTime.WatermarkTracker>();
    internal IReadOnlyList<IStatefulOperator> Stateful { get; init; } = [];
    internal StateMemory State { get; init; } = new(StateOptions.InMemory);

    /// <summary>Bytes of keyed state in memory now and at most so far (estimates; zero when the execution has no
    /// budget, <see cref="StateOptions.MemoryBytes"/>), and the runs spilled to disk with their bytes.</summary>
    public StateMemoryUse StateMemoryUse => new(State.Held, State.PeakHeld, State.PeakAccounted, State.RunsSpilled, State.BytesSpilled, State.Collections);
    internal IReadOnlyList<UpdatingAggregateOperator> Updating { get; init; } = [];

    /// <summary>One batch of <paramref name="source"/>'s records, in its schema.</summary>
    public void Push(string source, RecordBatch batch) => Push(source, batch, 0);

    /// <summary>
    /// One batch of <paramref name="source"/>'s records from one of its partitions (a Kafka partition; 0 for a
    /// stream with one): late records are dropped and counted, then the source's watermark advances and windows
    /// that end by it emit.
    /// </summary>
    public void Push(string source, RecordBatch batch, int partition) => Push(source, batch, partition, admit: true);

    /// <param name="admit">False: the records skip the watermark (none is late, and the watermark does not move).</param>
    private void Push(string source, RecordBatch batch, int partition, bool admit)
    {
        StartOnce();
        if (!_sources.ContainsKey(source))
            throw new ArgumentException($"The program has no source \"{source}\".", nameof(source));
        _pushed = true;
        var tracker = admit ? Trackers.GetValueOrDefault(source) : null;
        long now = Clock();
        if (tracker is not null) batch = tracker.Admit(batch, partition, now, Errors);
        if (_scans.TryGetValue(source, out var scans) && batch.Length > 0)
            foreach (var scan in scans) scan.Push(batch);
        if (tracker is not null && tracker.Advance(now)) Advanced(source, tracker.Current);
        if (tracker is not null) FollowIdle(now);
    }

    /// <summary>
    /// Whether the execution holds state that outlives a batch, which a restart needs from a snapshot
    /// (<see cref="SaveState"/>): a window, or a source's event-time watermark.
    /// </summary>
    public bool HasState => _hasState ??= Stateful.Count > 0 || Trackers.Values.Any(t => !t.IsProcessingTime);

    private bool? _hasState;

    /// <summary>
    /// The rows of the last batch pushed from <paramref name="source"/> that its watermark dropped on arrival (late, or
    /// without event time), by position in that batch, with the reason: what a pipeline sends to its dead-letter sink.
    /// Valid until the next push.
    /// </summary>
    public IReadOnlyList<(int Row, RowErrorReason Reason)> DroppedOnArrival(string source) =>
        Trackers.TryGetValue(source, out var tracker) ? tracker.Dropped : [];

    /// <summary>
    /// The stateful operators (windows, joins with a time bound, top-N, updating aggregates), in the order of the
    /// snapshot: what each has counted (records in and out, the watermark it has, its late records) and its size in the
    /// last snapshot written or read (null before one). Another thread may read it while batches are pushed.
    /// </summary>
    public IReadOnlyList<SqlOperatorStatus> StatefulOperators
    {
        get
        {
            var sizes = _stateBytes;
            var result = new List<SqlOperatorStatus>(Statistics.Count);
            for (int i = 0; i < Statistics.Count; i++)
            {
                var s = Statistics[i];
                long late = s.Operator.LateRecords;
                foreach (var source in s.Sources)
                    if (Trackers.TryGetValue(source, out var tracker)) late += tracker.LateRecords;
                result.Add(new SqlOperatorStatus(s.Plan, s.Operator.Name, s.RecordsIn, s.RecordsOut, sizes is not null && i < sizes.Length ? sizes[i] : null, s.Watermark, late));
            }
            return result;
        }
    }

    internal IReadOnlyList<OperatorStatistics> Statistics { get; init; } = [];

    private long[]? _stateBytes;

    /// <summary>
    /// Moves time on without records: processing-time windows whose end has passed emit, and partitions idle for
    /// longer than their stream's idle timeout stop holding its watermark back. The runtime calls it periodically.
    /// </summary>
    public void AdvanceTime()
    {
        StartOnce();
        long now = Clock();
        foreach (var (source, tracker) in Trackers)
            if (tracker.Advance(now)) Advanced(source, tracker.Current);
        FollowIdle(now);
    }

    /// <summary>
    /// A source idle for longer than its idle timeout stops holding back what joins or unions it with the others: its
    /// watermark follows the least of the watermarks of the other sources this execution reads that are not idle (none
    /// while one of those has none yet, or all are idle). So one quiet stream does not stall a join's results forever;
    /// records it sends later behind that watermark are late.
    /// </summary>
    private void FollowIdle(long now)
    {
        if (_scans.Count < 2) return;
        long active = long.MaxValue;
        List<(string Source, EventTime.WatermarkTracker Tracker)>? idle = null;
        foreach (var source in _scans.Keys)
        {
            if (Trackers.GetValueOrDefault(source) is not { IsProcessingTime: false } tracker) continue;
            if (tracker.IsIdle(now)) (idle ??= []).Add((source, tracker));
            else active = Math.Min(active, tracker.Current);
        }
        if (idle is null || active == long.MaxValue || active == long.MinValue) return;
        foreach (var (source, tracker) in idle)
            if (tracker.Follow(active)) Advanced(source, tracker.Current);
    }

    /// <summary>The watermark of <paramref name="source"/> in microseconds since the epoch, or null before it has one.</summary>
    public long? Watermark(string source) => Trackers.TryGetValue(source, out var t) && t.Current != long.MinValue ? t.Current : null;

    private void Advanced(string source, long watermark)
    {
        if (_scans.TryGetValue(source, out var scans))
            foreach (var scan in scans) scan.Watermark(watermark);
    }

    /// <summary>
    /// Writes the execution's state (watermarks, windows and their keys' aggregates) to <paramref name="stream"/>,
    /// between batches; an execution of the same program restored from it (<see cref="RestoreState"/>) gives the
    /// same output from then on as this one.
    /// </summary>
    public void SaveState(Stream stream) => _stateBytes = ExecutionState.Write(stream, Trackers, Stateful);

    /// <summary>Shards of the keyed state (<see cref="StateOptions.Shards"/>): a snapshot with the shards apart has a stream for each.</summary>
    public int StateShards => Math.Max(1, State.Options.Shards);

    /// <summary>
    /// Writes shard <paramref name="shard"/> of a snapshot with the shards apart (of <see cref="StateShards"/>): the groups of
    /// that shard of every tumble and hop window (the sessions of a session window, the kept rows of a top-N or a join,
    /// the keys of an updating aggregate), read from their spilled runs a batch at a time, so writing it holds a batch,
    /// not the state. Each shard goes to its own stream, then <see cref="SaveStateApart"/> writes the rest, between
    /// batches. Answers the bytes written.
    /// </summary>
    public long SaveShard(int shard, Stream stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, StateShards);
        var sizes = ExecutionState.WriteShard(stream, shard, StateShards, Stateful);
        _shardBytes ??= new long[Stateful.Count];
        for (int i = 0; i < sizes.Length; i++) _shardBytes[i] += sizes[i];
        return sizes.Sum();
    }

    /// <summary>
    /// Writes the rest of a snapshot with the shards apart, after every shard (<see cref="SaveShard"/>): the watermarks,
    /// the windows' panes, and the state of operators without shards. Answers the bytes written.
    /// </summary>
    public long SaveStateApart(Stream stream)
    {
        var sizes = ExecutionState.WriteApart(stream, StateShards, Trackers, Stateful);
        long written = sizes.Sum();
        if (_shardBytes is { } shards)
            for (int i = 0; i < sizes.Length; i++) sizes[i] += shards[i];
        _shardBytes = null;
        _stateBytes = sizes;
        return written;
    }

    private long[]? _shardBytes;
    private bool[]? _shardsToRead;

    /// <summary>
    /// Continues from a state written by <see cref="SaveState"/> (or <see cref="SaveStateApart"/>) of the same program,
    /// before any batch is pushed. Answers the number of shard streams that must follow (<see cref="RestoreShard"/>, any
    /// order): 0 for a state in one stream.
    /// </summary>
    public int RestoreState(Stream stream)
    {
        if (_pushed) throw new InvalidOperationException("restore the state before pushing any batch");
        var (sizes, shards) = ExecutionState.Read(stream, Trackers, Stateful);
        _stateBytes = sizes;
        _shardsToRead = shards > 0 ? new bool[shards] : null;
        if (shards == 0) Rewatermark();
        return shards;
    }

    /// <summary>
    /// Reads one shard stream of the state <see cref="RestoreState"/> began (of any shard count: each key goes to its
    /// shard here, so another count redistributes them). Over the budget the groups spill as they do in a run.
    /// </summary>
    public void RestoreShard(Stream stream)
    {
        if (_pushed) throw new InvalidOperationException("restore the state before pushing any batch");
        var read = _shardsToRead ?? throw new InvalidOperationException("restore the state's main stream (with the shards apart) first");
        var (shard, sizes) = ExecutionState.ReadShard(stream, read.Length, Stateful);
        if (read[shard]) throw new InvalidDataException($"shard {shard} of the state was read twice");
        read[shard] = true;
        for (int i = 0; i < sizes.Length; i++) _stateBytes![i] += sizes[i];
        if (Array.TrueForAll(read, r => r)) Rewatermark();
    }

    /// <summary>
    /// Once the whole state is read: operators without state of their own (a union's least watermark of its inputs)
    /// learn each source's restored watermark again, or a window over the union of two streams would wait for both to
    /// move after a restore. The stateful ones restored it themselves and take it as no news.
    /// </summary>
    private void Rewatermark()
    {
        foreach (var (source, tracker) in Trackers)
            if (tracker.Current != long.MinValue) Advanced(source, tracker.Current);
    }

    /// <summary>
    /// After <see cref="RestoreState"/> in a new process (a restart): the time since the state was saved was not spent
    /// running, so every partition's idle timeout starts again at the clock's next reading. Otherwise a run that replays
    /// its log after a downtime longer than the timeout would take partitions whose records it has not reached yet for
    /// idle, and drop those records as late.
    /// </summary>
    public void RestartIdleTimeouts()
    {
        foreach (var tracker in Trackers.Values) tracker.RestartIdleTimeouts();
    }

    /// <summary>
    /// Which rows of <paramref name="batch"/> fail to evaluate, each with the reason of its first failure: the rows are
    /// pushed again in halves, and only the halves with a failure are split further, so a batch with a few failing rows
    /// costs a few small pushes. For an execution of stateless statements started for this alone, whose output is
    /// discarded: a pipeline's dead-letter path finds the records its running execution dropped.
    /// </summary>
    /// <param name="admitted">The records skip the watermark (its late records are known from
    /// <see cref="DroppedOnArrival"/>), so windows never close: for a stateful statement, on a new execution dropped after.</param>
    public IReadOnlyList<(int Row, RowErrorReason Reason)> FindFailures(string source, RecordBatch batch, bool admitted = false)
    {
        var failures = new List<(int, RowErrorReason)>();
        var rows = new int[batch.Length];
        for (int i = 0; i < rows.Length; i++) rows[i] = i;
        // Halving with an explicit stack: at most log2(rows) ranges deep.
        var pending = new Stack<(int Start, int Length)>();
        pending.Push((0, rows.Length));
        while (pending.TryPop(out var range))
        {
            if (range.Length == 0) continue;
            var subset = rows.AsSpan(range.Start, range.Length);
            long before = Errors.Total;
            var columns = new IArrowArray[batch.ColumnCount];
            for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), subset);
            Push(source, new RecordBatch(batch.Schema, columns, range.Length), 0, admit: !admitted);
            if (Errors.Total == before) continue;
            if (range.Length == 1)
            {
                failures.Add((range.Start, Errors.LastReason!));
                continue;
            }
            int half = range.Length / 2;
            pending.Push((range.Start + half, range.Length - half));
            pending.Push((range.Start, half));
        }
        return failures;
    }

    /// <summary>
    /// A sink is about to commit: updating aggregates (GROUP BY keys without a window) emit the current row of every key
    /// that changed since the last flush, which the sink writes over the key's older row. Nothing for other statements.
    /// </summary>
    public void Flush()
    {
        StartOnce();
        foreach (var op in Updating) op.Flush();
    }

    /// <summary>The end of bounded input: aggregates and sorts emit their rows.</summary>
    public void Finish()
    {
        StartOnce();
        foreach (var scans in _scans.Values)
            foreach (var scan in scans) scan.Finish();
        foreach (var one in _oneRows) one.Finish();
    }

    /// <summary>Queries without FROM produce their one row before anything else.</summary>
    private void StartOnce()
    {
        if (_started) return;
        _started = true;
        foreach (var one in _oneRows)
            one.Push(new RecordBatch(new Schema([], null), [], 1));
    }

    /// <summary>Deletes what the execution's state spilled to local disk; it must not be used after.</summary>
    public void Dispose() => State.Dispose();
}
