using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// A symmetric hash join of two inputs (each reaching it through <see cref="Input"/>): a batch of one side is probed
/// against the rows the other side keeps (by the encoded equality keys, then the rest of the ON condition over the
/// pair), its matches emitted at once, and its rows kept for the other side's batches to come. So every matching pair
/// is emitted once, when the later of its two rows arrives, whatever the order of the inputs.
/// Over streams (<see cref="JoinTime"/>) a row is forgotten once the other side's watermark shows that nothing to come
/// can match it (a window join: the other side has emitted that window; an interval join: its event time is past
/// the interval); an outer side's row that never matched is emitted then, with NULLs for the other side. Over
/// bounded input rows are kept to the end, where the outer sides' unmatched rows are emitted. The output watermark
/// is the smaller of the inputs', an interval join's each held back by the other side's reach (<see cref="HeldBack"/>).
/// The rows kept are counted against the execution's state budget, and spill past it: a window join's a window and a
/// shard of the join key at a time, joined when the window closes (<see cref="SpilledWindow"/>); an interval join's a
/// time bucket and a shard at a time, the pairs with a row that was on disk joined when the bucket closes
/// (<see cref="CloseBucket"/>).
/// </summary>
internal sealed partial class JoinOperator : Operator, IShardedOperator
{
    private const int PairsPerBatch = 16_384;

    private readonly JoinSpec _spec;
    private readonly Schema _schema;
    private readonly IReadOnlyList<SqlType>[] _types;
    private readonly Kernel[][] _keyKernels;
    private readonly Kernel? _residual;
    private readonly KeyCodec _codec;
    private readonly RowErrorLog _log;
    private readonly Func<long> _clock;
    private readonly JoinRows[] _rows;
    private readonly EvalContext[] _keyContexts = [new(), new()];
    private readonly EvalContext _residualContext = new();
    private readonly long[] _watermarks = [long.MinValue, long.MinValue];
    private long _watermark = long.MinValue;
    private int _finished;
    private readonly List<int> _probe = [];
    private readonly List<int> _stored = [];
    private readonly List<int> _unmatched = [];
    private readonly List<int> _expired = [];
    private readonly StateMemory _memory;
    private readonly int _shards;
    /// <summary>A streaming join with a budget: its rows spill past it.</summary>
    private readonly bool _spills;
    /// <summary>An interval join: its spilled rows are grouped by time bucket (<see cref="_width"/>) and shard, and paired by the rows' arrivals (<see cref="RowRun.TimedLayout"/>).</summary>
    private readonly bool _interval;
    /// <summary>An interval join's time buckets' width: wider than the most two matching rows' times differ, so a row only matches rows of its own and the neighbouring buckets.</summary>
    private readonly long _width = 1;
    /// <summary>The number given to the last row that arrived (an interval join's rows are numbered across both sides).</summary>
    private long _seq;
    private readonly Schema[] _sides;
    private readonly Schema[] _layouts;
    /// <summary>What this operator holds in memory by its estimate, as last reported to <see cref="_memory"/>.</summary>
    private long _held;

    public JoinOperator(JoinSpec spec, Schema left, Schema right, IReadOnlyList<SqlType> leftTypes, IReadOnlyList<SqlType> rightTypes, Schema schema, RowErrorLog log, Func<long> clock,
        StateMemory memory)
    {
        _spec = spec;
        _schema = schema;
        _types = [leftTypes, rightTypes];
        _keyKernels = [[.. spec.LeftKeys.Select(ExpressionCompiler.Compile)], [.. spec.RightKeys.Select(ExpressionCompiler.Compile)]];
        _residual = spec.Residual is null ? null : ExpressionCompiler.CompileCondition(spec.Residual);
        _codec = new KeyCodec(spec.LeftKeys.Select(k => k.Type).ToList());
        _log = log;
        _clock = clock;
        _rows = [new JoinRows(left), new JoinRows(right)];
        _memory = memory;
        _shards = Math.Max(1, memory.Options.Shards);
        _spills = memory.Bounded && spec.Time is not null;
        _interval = spec.Time is { Kind: JoinTimeKind.Interval };
        if (spec.Time is { Kind: JoinTimeKind.Interval } time)
            _width = Math.Max(Magnitude(time.Lower), Magnitude(time.Upper)) + 1;
        _sides = [left, right];
        _layouts = _interval ? [RowRun.TimedLayout(left), RowRun.TimedLayout(right)] : [RowRun.Layout(left), RowRun.Layout(right)];
    }

    private int ShardOf(ReadOnlySpan<byte> key) => KeyedShard.Of(key, _shards);

    private static long Magnitude(long value) => value == long.MinValue ? long.MaxValue - 1 : Math.Min(Math.Abs(value), long.MaxValue - 1);

    public string Name => "join " + _spec.Kind.ToString().ToLowerInvariant() + (_spec.Time is { } t ? " " + t.Kind.ToString().ToLowerInvariant() : "");

    /// <summary>Where input <paramref name="side"/> (0 left, 1 right) sends its batches and watermarks.</summary>
    public Operator Input(int side) => new Arm(this, side);

    public override void Push(RecordBatch batch) => throw new InvalidOperationException("a join takes its batches through its inputs");

    private bool Keeps(int side) => side == 0 ? _spec.KeepsLeft : _spec.KeepsRight;

    /// <summary>How long a row of <paramref name="side"/> stays able to match: until the other side's watermark passes the value.</summary>
    private long Expiry(int side, RecordBatch batch, int row)
    {
        if (_spec.Time is not { } time) return long.MaxValue;
        var column = batch.Column(side == 0 ? time.LeftColumn : time.RightColumn);
        if (column.IsNull(row)) return long.MinValue;
        return Reach(side, Vectors.Values<long>(column)[row]);
    }

    /// <summary>The time <paramref name="t"/> of a row of <paramref name="side"/> plus that side's reach: the row can match
    /// nothing to come once the other side's watermark is past it.</summary>
    private long Reach(int side, long t)
    {
        var time = _spec.Time!;
        long reach = side == 0 ? time.LeftReach : time.RightReach;
        return reach > 0 && t > long.MaxValue - reach ? long.MaxValue - 1 : reach < 0 && t < long.MinValue - reach ? long.MinValue : t + reach;
    }

    private void Arrive(int side, RecordBatch batch)
    {
        int n = batch.Length;
        if (n == 0) return;
        // room for the batch and its entries (their arrays may double as they grow)
        if (_spills) MakeRoom(RowRun.Bytes(batch) + 2L * JoinRows.EntryBytes * n);
        // rows are numbered as they come, after what spilled before them: a row spilled at _seq + 1 was not seen by those numbered from then on
        long first = _seq + 1;
        _seq += n;
        int other = 1 - side;
        var context = _keyContexts[side];
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        context.Start(columns, n, _clock());
        var kernels = _keyKernels[side];
        var keys = new IArrowArray[kernels.Length];
        for (int k = 0; k < keys.Length; k++) keys[k] = kernels[k].Evaluate(context);
        bool failures = context.Errors.Count > 0;
        if (failures) context.Errors.Report(_log, n, "ON");

        var store = _rows[side];
        int chunk = store.AddChunk(batch);
        var entries = new int[n];
        var matched = new bool[n];
        _probe.Clear();
        _stored.Clear();
        // rows of spilled windows are set aside, paired when their window closes (a window join's time is a key: never NULL when keyed)
        bool spilling = _spilled.Count > 0 && !_interval;
        // an interval join's row already out of reach may pair with rows on disk: kept, then moved to them at once (Retire)
        bool retiring = _interval && _spilled.Count > 0;
        var windows = spilling ? Vectors.Values<long>(batch.Column(TimeColumn(side))) : default;
        Dictionary<SpilledWindow, (List<int> Rows, BinaryArray.Builder Keys)>? deferred = null;
        for (int i = 0; i < n; i++)
        {
            entries[i] = -1;
            if (failures && context.Errors.HasFailed(i)) { matched[i] = true; continue; } // dropped: neither matched nor kept
            bool keyed = true;
            for (int k = 0; k < keys.Length && keyed; k++) keyed = keys[k].IsValid(i);
            var key = keyed ? _codec.Encode(keys, i) : default;
            if (spilling && keyed && _spilled.TryGetValue((windows[i], ShardOf(key)), out var spilled))
            {
                deferred ??= [];
                if (!deferred.TryGetValue(spilled, out var rows)) deferred[spilled] = rows = ([], new BinaryArray.Builder());
                rows.Rows.Add(i);
                rows.Keys.Append(key);
                matched[i] = true; // not shown unmatched now: its window's close decides
                continue;
            }
            if (keyed)
                for (int e = _rows[other].First(key); e >= 0; e = _rows[other].Next(e))
                {
                    _probe.Add(i);
                    _stored.Add(e);
                }
            long expires = Expiry(side, batch, i);
            // kept for the other side's rows to come, unless none can match it any more (or it can match nothing and is not shown unmatched)
            if ((expires >= _watermarks[other] || retiring && keyed) && (keyed || Keeps(side)))
                entries[i] = store.Add(chunk, i, keyed, key, expires, matched: false, first + i, _watermarks[side]);
        }
        if (_probe.Count > 0) Match(side, batch, matched);
        for (int i = 0; i < n; i++)
        {
            if (!matched[i]) continue;
            if (entries[i] >= 0) store.SetMatched(entries[i]);
        }
        if (Keeps(side))
        {
            _unmatched.Clear();
            for (int i = 0; i < n; i++) if (!matched[i] && entries[i] < 0) _unmatched.Add(i);
            if (_unmatched.Count > 0) EmitUnmatched(side, batch, _unmatched.ToArray());
        }
        if (deferred is not null)
            foreach (var (spilled, (rows, keyBytes)) in deferred) Defer(spilled, side, batch, rows.ToArray(), keyBytes.Build());
        if (retiring) Expire(side, _watermarks[other]);
        else store.Tidy();
        if (!_memory.Bounded) return;
        Report();
        if (_spills) MakeRoom(0);
        _memory.Batch();
    }

    /// <summary>The probe pairs (<see cref="_probe"/> rows of <paramref name="batch"/>, <see cref="_stored"/> entries of the other side), a chunk of the other side at a time.</summary>
    private void Match(int side, RecordBatch batch, bool[] matched)
    {
        int other = 1 - side;
        var store = _rows[other];
        // group the pairs by the other side's chunk: one gather from each
        var order = Enumerable.Range(0, _probe.Count).ToArray();
        var chunkOf = new int[order.Length];
        for (int p = 0; p < order.Length; p++) chunkOf[p] = store.ChunkOf(_stored[p]);
        Array.Sort(chunkOf, order);
        for (int start = 0; start < order.Length;)
        {
            int chunk = chunkOf[start];
            int end = start;
            while (end < order.Length && chunkOf[end] == chunk && end - start < PairsPerBatch) end++;
            var probeRows = new int[end - start];
            var storedRows = new int[end - start];
            var storedEntries = new int[end - start];
            for (int p = start; p < end; p++)
            {
                probeRows[p - start] = _probe[order[p]];
                storedEntries[p - start] = _stored[order[p]];
                storedRows[p - start] = store.Row(_stored[order[p]]);
            }
            var stored = store.Chunk(storedEntries[0]);
            var pair = side == 0 ? Pair(batch, probeRows, stored, storedRows) : Pair(stored, storedRows, batch, probeRows);
            var selection = Accept(pair);
            int count = selection?.Length ?? pair.Length;
            for (int s = 0; s < count; s++)
            {
                int p = selection is null ? s : selection[s];
                matched[probeRows[p]] = true;
                store.SetMatched(storedEntries[p]);
            }
            if (selection is null) Emit(pair);
            else if (selection.Length > 0) Emit(Select(pair, selection));
            start = end;
        }
    }

    private RecordBatch Pair(RecordBatch left, int[] leftRows, RecordBatch right, int[] rightRows)
    {
        var columns = new IArrowArray[left.ColumnCount + right.ColumnCount];
        for (int c = 0; c < left.ColumnCount; c++) columns[c] = Gather.Take(left.Column(c), leftRows);
        for (int c = 0; c < right.ColumnCount; c++) columns[left.ColumnCount + c] = Gather.Take(right.Column(c), rightRows);
        return new RecordBatch(_schema, columns, leftRows.Length);
    }

    /// <summary>The pairs the rest of the ON condition is true for (null: all of them); pairs it fails on are counted and match nothing.</summary>
    private int[]? Accept(RecordBatch pair)
    {
        if (_residual is null) return null;
        var columns = new IArrowArray[pair.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = pair.Column(c);
        _residualContext.Start(columns, pair.Length, _clock());
        var result = (BooleanArray)_residual.Evaluate(_residualContext);
        bool failures = _residualContext.Errors.Count > 0;
        if (failures) _residualContext.Errors.Report(_log, pair.Length, "ON");
        var selection = new List<int>(pair.Length);
        for (int i = 0; i < pair.Length; i++)
            if (result.GetValue(i) == true && (!failures || !_residualContext.Errors.HasFailed(i))) selection.Add(i);
        return selection.Count == pair.Length ? null : selection.ToArray();
    }

    private RecordBatch Select(RecordBatch batch, int[] rows)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), rows);
        return new RecordBatch(_schema, columns, rows.Length);
    }

    /// <summary>Rows of <paramref name="side"/> that matched nothing, with NULLs for the other side's columns.</summary>
    private void EmitUnmatched(int side, RecordBatch batch, int[] rows)
    {
        var columns = new IArrowArray[_schema.FieldsList.Count];
        int leftWidth = _types[0].Count;
        int offset = side == 0 ? 0 : leftWidth;
        int otherOffset = side == 0 ? leftWidth : 0;
        for (int c = 0; c < batch.ColumnCount; c++) columns[offset + c] = Gather.Take(batch.Column(c), rows);
        var otherTypes = _types[1 - side];
        for (int c = 0; c < otherTypes.Count; c++) columns[otherOffset + c] = Vectors.Nulls(otherTypes[c], rows.Length);
        Emit(new RecordBatch(_schema, columns, rows.Length));
    }

    /// <summary>Emits the given entries of <paramref name="side"/> unmatched, a chunk at a time.</summary>
    private void EmitUnmatched(int side, List<int> entries)
    {
        var store = _rows[side];
        for (int start = 0; start < entries.Count;)
        {
            int chunk = store.ChunkOf(entries[start]);
            var batch = store.Chunk(entries[start]);
            var rows = new List<int>();
            int end = start;
            for (; end < entries.Count && store.ChunkOf(entries[end]) == chunk; end++) rows.Add(store.Row(entries[end]));
            EmitUnmatched(side, batch, rows.ToArray());
            start = end;
        }
    }

    private void Watermark(int side, long micros)
    {
        if (micros <= _watermarks[side]) return;
        _watermarks[side] = micros;
        // the other side's rows this watermark puts out of reach
        Expire(1 - side, micros);
        if (_spilled.Count > 0) CloseSpilled(all: false);
        long min = Math.Min(HeldBack(0), HeldBack(1));
        // an interval join's spilled rows are paired when their bucket closes: their pairs' times are past its start
        if (_interval)
            foreach (var at in _spilled.Keys) min = Math.Min(min, BucketStart(at.Window));
        if (min <= _watermark) return;
        _watermark = min;
        Next?.Watermark(min);
    }

    /// <summary>Forgets the rows of <paramref name="side"/> that the other side's watermark puts out of reach, showing an
    /// outer side's unmatched; those an interval join may still pair with rows that spilled are moved to the spilled
    /// rows instead (<see cref="Retire"/>).</summary>
    private void Expire(int side, long watermark)
    {
        _unmatched.Clear();
        _expired.Clear();
        bool retiring = _interval && _spilled.Count > 0;
        _rows[side].Expire(watermark, Keeps(side) ? _unmatched : null, retiring ? _expired : null);
        if (retiring && _expired.Count > 0) Retire(side);
        if (_unmatched.Count > 0)
        {
            _unmatched.Sort();
            EmitUnmatched(side, _unmatched);
        }
        _rows[side].Tidy();
    }

    /// <summary>
    /// What side <paramref name="side"/>'s watermark promises of the output. An interval join emits a pair when its later
    /// row arrives (at or after its own side's watermark), with a row of the other side kept up to that side's reach
    /// behind it: so the pair's event times are at least the arriving side's watermark minus the other side's reach, and
    /// the output watermark is held back by it, or a window downstream would take the join's results for late. A window
    /// join's rows are whole windows, already behind the watermark that closed them: its watermark passes unchanged.
    /// </summary>
    private long HeldBack(int side)
    {
        long watermark = _watermarks[side];
        if (_spec.Time is not { Kind: JoinTimeKind.Interval } time) return watermark;
        long reach = Math.Max(0, side == 0 ? time.RightReach : time.LeftReach);
        return watermark < long.MinValue + reach ? long.MinValue : watermark - reach;
    }

    public override void Finish()
    {
        if (++_finished < 2) return;
        if (_interval && _spilled.Count > 0)
        {
            // every row is out of reach now: those near spilled rows join them, the others are done
            Expire(0, long.MaxValue);
            Expire(1, long.MaxValue);
        }
        if (_spilled.Count > 0) CloseSpilled(all: true);
        for (int side = 0; side < 2; side++)
        {
            if (!Keeps(side)) continue;
            var unmatched = _rows[side].Living().Where(e => !_rows[side].Matched(e)).ToList();
            if (unmatched.Count > 0) EmitUnmatched(side, unmatched);
        }
        base.Finish();
    }

    private sealed class Arm(JoinOperator join, int side) : Operator
    {
        public override void Push(RecordBatch batch) => join.Arrive(side, batch);

        public override void Finish() => join.Finish();

        public override void Watermark(long micros) => join.Watermark(side, micros);
    }
}
