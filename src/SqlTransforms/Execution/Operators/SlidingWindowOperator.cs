using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.State;
using DataPlane.SqlTransforms.Types;
using DataPlane.SqlTransforms.Windows;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Tumbling and hopping windows over event time. Records are aggregated once, into panes: slots of the greatest
/// common divisor of slide and width (the window itself for a tumble), each with its groups split into shards by a
/// hash of the key. A hop window is the merge of its panes when the watermark passes its end, so a record costs one
/// update however many windows overlap it. A pane is dropped once the last window holding it has been emitted.
/// Past the execution's state budget the groups in memory are spilled to sorted runs (<see cref="KeyedShard"/>),
/// merged when their window closes, so a tumble over more keys than fit in memory emits them in batches.
/// </summary>
internal sealed class SlidingWindowOperator : WindowAggregateOperator, IShardedOperator
{
    /// <summary>Groups per emitted batch when a window's groups come from spilled runs.</summary>
    private const int MergedGroups = 8192;

    /// <summary>Written where snapshots before shards had the pane count (never negative).</summary>
    private const int ShardedLayout = -1;

    /// <summary>Written there when the shards' groups are apart (<see cref="WriteStateApart"/>, <see cref="WriteShard"/>).</summary>
    private const int ApartLayout = -2;

    private readonly long _pane;
    private readonly SortedDictionary<long, Pane> _panes = new();
    /// <summary>Starts of the windows that hold data and are not emitted yet.</summary>
    private readonly SortedSet<long> _pending = new();
    /// <summary>The (pane, shard) parts the rows of the batch being pushed go to, in the order first reached.</summary>
    private readonly List<(Pane Pane, int Shard)> _touched = [];
    private readonly StateMemory _memory;
    private readonly int _shards;
    private GroupStateCodec? _codec;
    /// <summary>Estimated bytes of one group's aggregates (sampled at each spill), and what this operator holds by that estimate.</summary>
    private long _groupBytes;
    private long _held;
    private int[] _groups = [];
    /// <summary>Per row of the batch, its part (an index of <see cref="_touched"/>); the rows in part order; where each part starts.</summary>
    private int[] _partOf = [];
    private int[] _order = [];
    private int[] _partStart = [];
    private int[] _partGroups = [];
    private int[]? _inputColumns;
    /// <summary>Per input column, the values and validity a part's rows are gathered into, reused from part to part.</summary>
    private byte[]?[] _gatheredValues = [];
    private byte[]?[] _gatheredValidity = [];
    private byte[]?[] _gatheredBytes = [];

    public SlidingWindowOperator(WindowSpec window, IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls,
        Schema schema, IReadOnlyList<SqlType> outputTypes, RowErrorLog log, StateMemory memory)
        : base(window, keys, inputTypes, calls, schema, outputTypes, log)
    {
        _pane = window.Kind == WindowKind.Tumble ? window.WidthMicros : Gcd(window.WidthMicros, window.SlideMicros);
        _memory = memory;
        _shards = Math.Max(1, memory.Options.Shards);
    }

    private sealed class Pane(long start, KeyedShard[] shards)
    {
        public readonly long Start = start;
        public readonly KeyedShard[] Shards = shards;
        /// <summary>Per shard, its part in the batch being pushed (an index of <see cref="_touched"/>), or -1.</summary>
        public readonly int[] Parts = NewParts(shards.Length);

        private static int[] NewParts(int shards)
        {
            var parts = new int[shards];
            Array.Fill(parts, -1);
            return parts;
        }
    }

    private GroupStateCodec StateCodec => _codec ??= new GroupStateCodec(NewAggregates());

    private int ShardOf(ReadOnlySpan<byte> key) => KeyedShard.Of(key, _shards);

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) { _groups = new int[n]; _partOf = new int[n]; _order = new int[n]; _partGroups = new int[n]; }
        var timeColumn = batch.Column(WindowSpec.TimeColumn);
        var times = Vectors.Values<long>(timeColumn);
        var keys = KeyColumns(batch);
        bool bounded = _memory.Bounded;
        IArrowArray[]? columns = null;
        Pane? current = null;
        foreach (var (pane, shard) in _touched) pane.Parts[shard] = -1;
        _touched.Clear();
        for (int i = 0; i < n; i++)
        {
            if (timeColumn.IsNull(i)) { _groups[i] = -1; continue; }
            long t = times[i];
            long start = Floor(t, _pane);
            if (LastEnd(start) <= Watermarked) { Late(t); _groups[i] = -1; continue; }
            if (current is null || current.Start != start) current = PaneAt(start);
            var key = Codec.Encode(keys, i);
            int shard = ShardOf(key);
            var table = current.Shards[shard].Keys;
            int group = bounded ? table.GetOrAddInPlace(key) : table.GetOrAdd(key);
            if (group < 0) group = MakeRoom(current, shard, key, columns ??= Columns(batch), i);
            _groups[i] = group;
            int part = current.Parts[shard];
            if (part < 0)
            {
                part = current.Parts[shard] = _touched.Count;
                _touched.Add((current, shard));
            }
            _partOf[i] = part;
        }
        if (_touched.Count == 0) return;
        Update(columns ?? Columns(batch), n);
        if (!bounded) return;
        Report();
        _memory.Batch();
    }

    /// <summary>
    /// Folds rows 0 to <paramref name="rows"/> - 1 of the batch into the groups the loop found for them. With several
    /// parts (panes a batch spans, shards of a key hash), the rows are put in part order (stable, so first and last
    /// values keep their order) and each part's columns gathered, so a row is read once however many parts there are.
    /// </summary>
    private void Update(IArrowArray[] columns, int rows)
    {
        int parts = _touched.Count;
        if (parts == 0 || rows == 0) return;
        if (parts == 1)
        {
            var only = _touched[0].Pane.Shards[_touched[0].Shard];
            only.Aggregates.Update(columns, _groups.AsSpan(0, rows), only.Keys.Count);
            return;
        }
        if (_partStart.Length < parts + 1) _partStart = new int[Math.Max(parts + 1, _partStart.Length * 2)];
        var start = _partStart.AsSpan(0, parts + 1);
        start.Clear();
        for (int i = 0; i < rows; i++)
            if (_groups[i] >= 0) start[_partOf[i] + 1]++;
        for (int p = 0; p < parts; p++) start[p + 1] += start[p];
        Span<int> next = parts <= 256 ? stackalloc int[parts] : new int[parts];
        start[..parts].CopyTo(next);
        for (int i = 0; i < rows; i++)
            if (_groups[i] >= 0) _order[next[_partOf[i]]++] = i;
        _inputColumns ??= [.. _touched[0].Pane.Shards[_touched[0].Shard].Aggregates.InputColumns];
        var gathered = new IArrowArray[columns.Length];
        for (int p = 0; p < parts; p++)
        {
            int count = start[p + 1] - start[p];
            if (count == 0) continue;
            var indices = _order.AsSpan(start[p], count);
            foreach (int c in _inputColumns) gathered[c] = Take(columns[c], indices, c);
            for (int k = 0; k < count; k++) _partGroups[k] = _groups[indices[k]];
            var shard = _touched[p].Pane.Shards[_touched[p].Shard];
            shard.Aggregates.Update(gathered, _partGroups.AsSpan(0, count), shard.Keys.Count);
        }
    }

    /// <summary>
    /// The rows <paramref name="indices"/> of a column: fixed-width values (numbers, times) and strings copied into this
    /// operator's buffers for column <paramref name="c"/>, reused from part to part and batch to batch (the accumulators
    /// copy what they keep), so a record costs no allocation; other types (lists, booleans) through <see cref="Gather.Take"/>.
    /// </summary>
    private IArrowArray Take(IArrowArray column, ReadOnlySpan<int> indices, int c)
    {
        var data = column.Data;
        bool text = column is BinaryArray && data.DataType is Apache.Arrow.Types.StringType or Apache.Arrow.Types.BinaryType;
        if (!text && (data.DataType is not Apache.Arrow.Types.FixedWidthType { BitWidth: var bits } || bits % 8 != 0
            || data.Children is { Length: > 0 } || data.Dictionary is not null))
            return Gather.Take(column, indices);
        if (_gatheredValues.Length <= c)
        {
            Array.Resize(ref _gatheredValues, c + 1);
            Array.Resize(ref _gatheredValidity, c + 1);
            Array.Resize(ref _gatheredBytes, c + 1);
        }
        int n = indices.Length;
        int width = text ? sizeof(int) : ((Apache.Arrow.Types.FixedWidthType)data.DataType).BitWidth / 8;
        int slots = text ? n + 1 : n;
        var values = Reused(ref _gatheredValues[c], slots * width, (Math.Max(n, _groups.Length) + 1) * width);
        ArrowBuffer bytesBuffer = default;
        if (text)
        {
            // Offsets, then each row's bytes after the one before.
            var binary = (BinaryArray)column;
            long total = 0;
            foreach (int row in indices) total += binary.GetValueLength(row);
            var bytes = Reused(ref _gatheredBytes[c], (int)total, (int)Math.Min(int.MaxValue, 2 * total));
            var offsets = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(values.AsSpan(0, slots * width));
            int at = 0;
            offsets[0] = 0;
            for (int k = 0; k < n; k++)
            {
                var value = binary.GetBytes(indices[k]);
                value.CopyTo(bytes.AsSpan(at));
                at += value.Length;
                offsets[k + 1] = at;
            }
            bytesBuffer = new ArrowBuffer(bytes.AsMemory(0, at));
        }
        else
        {
            var source = data.Buffers[1].Span.Slice(data.Offset * width);
            for (int k = 0; k < n; k++) source.Slice(indices[k] * width, width).CopyTo(values.AsSpan(k * width));
        }
        var validity = ArrowBuffer.Empty;
        int nulls = 0;
        if (column.NullCount > 0)
        {
            int length = (n + 7) / 8;
            var bitmap = Reused(ref _gatheredValidity[c], length, (Math.Max(n, _groups.Length) + 7) / 8);
            bitmap.AsSpan(0, length).Clear();
            for (int k = 0; k < n; k++)
                if (column.IsValid(indices[k])) Vectors.Set(bitmap, k);
                else nulls++;
            validity = new ArrowBuffer(bitmap.AsMemory(0, length));
        }
        var valuesBuffer = new ArrowBuffer(values.AsMemory(0, slots * width));
        return ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, n, nulls, 0, text ? [validity, valuesBuffer, bytesBuffer] : [validity, valuesBuffer]));
    }

    /// <summary>A buffer of at least <paramref name="needed"/> bytes: the one kept, or a new one of <paramref name="size"/>.</summary>
    private static byte[] Reused(ref byte[]? kept, int needed, int size) =>
        kept is { } k && k.Length >= needed ? k : kept = new byte[Math.Max(needed, size)];

    /// <summary>
    /// A new key for a full table, at row <paramref name="row"/> of a batch: answers its group, in the table grown if the
    /// growth (the new arrays beside the old while they are copied) fits the budget, with the garbage there is or after
    /// a collection; otherwise after spilling what holds most: this table, emptied in place to go on at the size it
    /// has, or a larger one of another pane, let go (a window's pane that fills no more, or less). The other shards of
    /// this pane fill as fast as this one (keys are spread by hash): each spills itself when full, where letting them
    /// go would have them grow again, and take this one's place in turn. So the state never grows past the budget, and
    /// in the steady state (tables filling and spilling) allocates nothing. Before a spill the rows before this one are
    /// folded into their groups (and skipped after), so any table can be spilled whole; a table that grows keeps its
    /// ids, and they wait. Rare: once per doubling of a table or per table's worth of new keys.
    /// </summary>
    private int MakeRoom(Pane pane, int index, ReadOnlySpan<byte> key, IArrowArray[] columns, int row)
    {
        var shard = pane.Shards[index];
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        bool folded = false;
        while (true)
        {
            int group = shard.Keys.GetOrAddInPlace(key);
            if (group >= 0) return group;
            var (added, replaced) = shard.Growth(key.Length, _groupBytes);
            var victim = Largest(pane, shard);
            if (victim is null || _memory.Fits(added, replaced))
            {
                // A table grows keeping its ids: the rows before this one stay in their groups.
                _memory.Change(added);
                _held += added;
                _memory.Dropped(replaced);
                return shard.Keys.GetOrAdd(key);
            }
            if (!folded)
            {
                // A spill empties or lets go of a table: the rows before this one go into their groups first.
                Update(columns, row);
                _groups.AsSpan(0, row).Fill(-1);
                folded = true;
            }
            _groupBytes = SampleGroupBytes();
            if (victim == shard) shard.Spill(_memory, StateCodec, keep: true);
            else
            {
                long bytes = victim.Bytes(_groupBytes);
                victim.Spill(_memory, StateCodec, keep: false);
                Report();
                _memory.Dropped(bytes);
            }
            Report();
        }
    }

    /// <summary>Of <paramref name="asking"/> (a shard of <paramref name="own"/>) and the other panes' shards, the one holding
    /// the most in memory by its bytes (groups, or the room a spill emptied), <paramref name="asking"/> on a tie; null if
    /// none holds any.</summary>
    private KeyedShard? Largest(Pane own, KeyedShard asking)
    {
        KeyedShard? largest = asking.Keys.Count > 0 ? asking : null;
        long most = largest is null ? 0 : asking.Bytes(_groupBytes);
        foreach (var pane in _panes.Values)
        {
            if (pane == own) continue;
            foreach (var shard in pane.Shards)
                if (shard.Grown && shard.Bytes(_groupBytes) is var bytes && bytes > most)
                {
                    largest = shard;
                    most = bytes;
                }
        }
        return largest;
    }

    private Pane PaneAt(long start)
    {
        if (!_panes.TryGetValue(start, out var pane))
        {
            var shards = new KeyedShard[_shards];
            for (int s = 0; s < shards.Length; s++) shards[s] = new KeyedShard(NewAggregates);
            pane = new Pane(start, shards);
            _panes.Add(start, pane);
            // the windows this pane belongs to: starts at multiples of the slide, in (start - width, start]
            long slide = Window.Kind == WindowKind.Tumble ? Window.WidthMicros : Window.SlideMicros;
            for (long s = Floor(start, slide); s > start - Window.WidthMicros; s -= slide) _pending.Add(s);
        }
        return pane;
    }

    /// <summary>
    /// Reports what the groups in memory take to the execution's budget and, over it (groups read from a snapshot, which
    /// come in whole tables), spills every group this operator holds in memory.
    /// </summary>
    private void Account()
    {
        if (!_memory.Bounded) return;
        Report();
        if (!_memory.Over) return;
        _groupBytes = SampleGroupBytes();
        foreach (var pane in _panes.Values)
            foreach (var shard in pane.Shards)
            {
                if (shard.Keys.Count == 0) continue;
                long bytes = shard.Bytes(_groupBytes);
                shard.Spill(_memory, StateCodec, keep: false);
                Report();
                _memory.Dropped(bytes);
            }
        _memory.CollectIfOver();
    }

    private void Report()
    {
        if (_groupBytes == 0) _groupBytes = SampleGroupBytes();
        long held = 0;
        foreach (var pane in _panes.Values)
            foreach (var shard in pane.Shards)
                held += shard.Bytes(_groupBytes);
        _memory.Change(held - _held);
        _held = held;
    }

    /// <summary>The mean size of a group's aggregates, over up to 64 groups in memory (0 while there are none).</summary>
    private long SampleGroupBytes()
    {
        long bytes = 0;
        int sampled = 0;
        foreach (var pane in _panes.Values)
            foreach (var shard in pane.Shards)
                for (int id = 0; id < shard.Keys.Count && sampled < 64; id++, sampled++)
                    bytes += StateCodec.Encode(shard.Aggregates, id).Length;
        return sampled == 0 ? _groupBytes : Math.Max(1, bytes / sampled);
    }

    /// <summary>The end of the last window holding the pane that starts at <paramref name="start"/>.</summary>
    private long LastEnd(long start) =>
        Floor(start, Window.Kind == WindowKind.Tumble ? Window.WidthMicros : Window.SlideMicros) + Window.WidthMicros;

    protected override void EmitUntil(long watermark)
    {
        while (_pending.Count > 0 && _pending.Min is var start && (watermark == long.MaxValue || start + Window.WidthMicros <= watermark))
        {
            _pending.Remove(start);
            EmitWindow(start);
        }
        long dropped = 0;
        while (_panes.Count > 0 && _panes.First() is var first && (watermark == long.MaxValue || LastEnd(first.Key) <= watermark))
        {
            foreach (var shard in first.Value.Shards)
            {
                dropped += shard.Bytes(_groupBytes);
                shard.Drop(_memory);
            }
            _panes.Remove(first.Key);
        }
        if (dropped > 0 && _memory.Bounded)
        {
            Report();
            _memory.Dropped(dropped);
        }
    }

    private void EmitWindow(long start)
    {
        long end = start + Window.WidthMicros;
        if (_pane == Window.WidthMicros)
        {
            if (!_panes.TryGetValue(start, out var pane)) return;
            foreach (var shard in pane.Shards)
                foreach (var (keys, aggregates) in shard.Groups(_memory, StateCodec, MergedGroups))
                    EmitGroups(start, end, keys, aggregates);
            return;
        }
        // a hop window: the merge of its panes' partial aggregates
        var panes = new List<Pane>();
        for (long p = start; p < end; p += _pane)
            if (_panes.TryGetValue(p, out var pane)) panes.Add(pane);
        long bytes = 0;
        bool spilled = false;
        foreach (var pane in panes)
            foreach (var shard in pane.Shards)
            {
                bytes += shard.Bytes(_groupBytes);
                spilled |= shard.Spilled;
            }
        // in memory, when the panes are and their merge fits the budget beside them: a table about as large as theirs,
        // and as much again in the arrays it outgrows on the way
        if (!_memory.Bounded || (!spilled && _memory.Fits(2 * bytes, 0)))
        {
            var window = new KeyTable();
            var merged = NewAggregates();
            foreach (var pane in panes)
                foreach (var shard in pane.Shards)
                    for (int id = 0; id < shard.Keys.Count; id++)
                        merged.Merge(shard.Aggregates, id, window.GetOrAdd(shard.Keys.Key(id)));
            EmitGroups(start, end, window, merged);
            if (_memory.Bounded) _memory.Dropped(2 * (window.Bytes + window.Capacity * _groupBytes));
            return;
        }
        // otherwise streamed, shard by shard (a key is in the same shard of every pane): each pane's groups in memory
        // spilled, and the panes' runs merged by key a batch at a time, folding a key's states; the runs stay the panes'
        for (int s = 0; s < _shards; s++)
        {
            var runs = new List<string>();
            foreach (var pane in panes)
            {
                pane.Shards[s].Spill(_memory, StateCodec, keep: true);
                runs.AddRange(pane.Shards[s].Runs);
            }
            var kept = new HashSet<string>(runs, StringComparer.Ordinal);
            foreach (var (keys, aggregates) in GroupRun.Merge(_memory, runs, StateCodec, NewAggregates, MergedGroups, kept))
                EmitGroups(start, end, keys, aggregates);
            foreach (var run in runs)
                if (!kept.Contains(run)) _memory.Delete(run);
        }
    }

    private void EmitGroups(long start, long end, KeyTable keys, AggregateSet aggregates)
    {
        int count = keys.Count;
        if (count == 0) return;
        var ids = new int[count];
        for (int i = 0; i < count; i++) ids[i] = i;
        var starts = new long[count];
        var ends = new long[count];
        Array.Fill(starts, start);
        Array.Fill(ends, end);
        EmitRows(starts, ends, Codec.Decode(keys, ids), aggregates.Result(ids));
    }

    /// <summary>
    /// The watermark; then each pane's start and shard count, and each shard's groups as key tables with their
    /// aggregates (one, or one per merged batch when it spilled), each preceded by true and the last followed by false;
    /// then the windows pending.
    /// </summary>
    public override void WriteState(BinaryWriter writer)
    {
        writer.Write(Watermarked);
        writer.Write(ShardedLayout);
        writer.Write(_panes.Count);
        foreach (var pane in _panes.Values)
        {
            writer.Write(pane.Start);
            writer.Write(pane.Shards.Length);
            foreach (var shard in pane.Shards)
            {
                foreach (var (keys, aggregates) in shard.Groups(_memory, StateCodec, MergedGroups))
                {
                    writer.Write(true);
                    keys.Write(writer);
                    aggregates.Write(writer, keys.Count);
                }
                writer.Write(false);
            }
        }
        writer.Write(_pending.Count);
        foreach (var start in _pending) writer.Write(start);
    }

    /// <summary>
    /// The watermark, each pane's start and the windows pending; the groups are written by <see cref="WriteShard"/>, one
    /// shard at a time.
    /// </summary>
    public void WriteStateApart(BinaryWriter writer)
    {
        writer.Write(Watermarked);
        writer.Write(ApartLayout);
        writer.Write(_panes.Count);
        foreach (var pane in _panes.Values) writer.Write(pane.Start);
        writer.Write(_pending.Count);
        foreach (var start in _pending) writer.Write(start);
    }

    /// <summary>
    /// Shard <paramref name="shard"/>'s groups of every pane: each pane's start, then its key tables with their aggregates
    /// (one, or one per merged batch when the shard spilled), each preceded by true and the last followed by false. A
    /// spilled shard is merged from its runs a batch at a time, so the memory this takes is a batch's, whatever the state.
    /// </summary>
    public void WriteShard(BinaryWriter writer, int shard)
    {
        writer.Write(_panes.Count);
        foreach (var pane in _panes.Values)
        {
            writer.Write(pane.Start);
            foreach (var (keys, aggregates) in pane.Shards[shard].Groups(_memory, StateCodec, MergedGroups))
            {
                writer.Write(true);
                keys.Write(writer);
                aggregates.Write(writer, keys.Count);
            }
            writer.Write(false);
        }
    }

    /// <summary>
    /// Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot whose panes <see cref="ReadState"/> read
    /// (<see cref="WriteStateApart"/>): each key into its shard here.
    /// </summary>
    public void ReadShard(BinaryReader reader, int shard, int shards)
    {
        int panes = reader.ReadInt32();
        for (int i = 0; i < panes; i++)
        {
            long start = reader.ReadInt64();
            if (!_panes.TryGetValue(start, out var pane)) throw new InvalidDataException($"the shard has groups of a pane at {start}, which the snapshot does not have");
            while (reader.ReadBoolean())
            {
                var keys = KeyTable.Read(reader);
                var aggregates = NewAggregates();
                aggregates.Read(reader, keys.Count);
                Place(pane, keys, aggregates, shards == _shards ? shard : -1);
            }
        }
    }

    /// <summary>Reads a snapshot of any shard count (or of the layout before shards), each key into its shard here; of
    /// one with the shards apart, the panes, whose groups <see cref="ReadShard"/> reads.</summary>
    public override void ReadState(BinaryReader reader)
    {
        Watermarked = reader.ReadInt64();
        foreach (var pane in _panes.Values)
            foreach (var shard in pane.Shards)
                shard.Drop(_memory);
        _panes.Clear();
        int layout = reader.ReadInt32();
        if (layout >= 0)
        {
            for (int i = 0; i < layout; i++)
            {
                var pane = NewPane(reader.ReadInt64());
                var keys = KeyTable.Read(reader);
                var aggregates = NewAggregates();
                aggregates.Read(reader, keys.Count);
                Place(pane, keys, aggregates, -1);
            }
        }
        else if (layout == ApartLayout)
        {
            int panes = reader.ReadInt32();
            for (int i = 0; i < panes; i++) NewPane(reader.ReadInt64());
        }
        else
        {
            int panes = reader.ReadInt32();
            for (int i = 0; i < panes; i++)
            {
                var pane = NewPane(reader.ReadInt64());
                int shards = reader.ReadInt32();
                if (shards < 1) throw new InvalidDataException($"the state has a pane of {shards} shards");
                for (int s = 0; s < shards; s++)
                {
                    while (reader.ReadBoolean())
                    {
                        var keys = KeyTable.Read(reader);
                        var aggregates = NewAggregates();
                        aggregates.Read(reader, keys.Count);
                        Place(pane, keys, aggregates, shards == _shards ? s : -1);
                    }
                }
            }
        }
        _pending.Clear();
        int pending = reader.ReadInt32();
        for (int i = 0; i < pending; i++) _pending.Add(reader.ReadInt64());
    }

    private Pane NewPane(long start)
    {
        var shards = new KeyedShard[_shards];
        for (int s = 0; s < shards.Length; s++) shards[s] = new KeyedShard(NewAggregates);
        var pane = new Pane(start, shards);
        if (!_panes.TryAdd(start, pane)) throw new InvalidDataException($"the state has the pane at {start} twice");
        return pane;
    }

    /// <summary>
    /// Groups read from a snapshot into the pane: taken whole by their shard here when the snapshot had as many shards
    /// (the hash is the same in every process, so its keys are that shard's) and the shard is empty; otherwise each key
    /// is merged into the shard its hash gives here. Over the budget, what is in memory spills as it would in a run.
    /// </summary>
    private void Place(Pane pane, KeyTable keys, AggregateSet aggregates, int shard)
    {
        if (shard >= 0 && pane.Shards[shard].Keys.Count == 0 && !pane.Shards[shard].Spilled)
            pane.Shards[shard].Adopt(keys, aggregates);
        else
        {
            for (int id = 0; id < keys.Count; id++)
            {
                var key = keys.Key(id);
                var target = pane.Shards[ShardOf(key)];
                target.Aggregates.Merge(aggregates, id, target.Keys.GetOrAdd(key));
            }
        }
        Account();
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
