using System.IO.Hashing;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.State;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// The join's rows against the state budget, and in snapshots. A window join past the budget spills the rows of one
/// window and one shard of the join key (both sides) to Arrow IPC runs (<see cref="RowRun"/>), marked "pre": every pair
/// of two such rows was already evaluated when the later of them arrived (the symmetric hash join's invariant), and each
/// row's matched flag says whether one was accepted. From then on that window and shard pairs nothing at arrival: its
/// rows arriving are set aside (in memory, spilled in turn) unpaired, and when the window closes (both watermarks past
/// it: no row of it can come on either side) one side's rows are loaded into a hash table and the other's streamed
/// through it, evaluating every pair with the same key but those of two "pre" rows. So every pair is evaluated exactly
/// once: two "pre" rows at the arrival of the later, any other pair at the close, never both (a row is "pre" or
/// arrived after the spill, when nothing paired it). A row is matched if its flag (pre pairs) or the close (the others)
/// says so, and an outer side's row shows unmatched at the close only if neither did: exactly the rows that never
/// matched. Rows of a window only ever match rows of the same window (its time is one of the join keys), and rows of a
/// key only rows of the same key, which is in the same shard.
/// </summary>
internal sealed partial class JoinOperator
{
    /// <summary>Written where snapshots before shards had the left side's row count (never negative).</summary>
    private const int ShardedLayout = -1;

    /// <summary>Written there when the shards' rows are apart (<see cref="WriteStateApart"/>, <see cref="WriteShard"/>).</summary>
    private const int ApartLayout = -2;

    /// <summary>Most times a closing window's rows are split again (<see cref="Split"/>), and most parts per split.</summary>
    private const int MaxSplits = 3;
    private const int MaxParts = 64;

    /// <summary>Rows of the loaded side a close takes without splitting, whatever the budget (a fixed overhead: splitting
    /// a few rows into parts would write a run per row).</summary>
    private const int MinSplitRows = 256;

    private readonly Dictionary<(long Window, int Shard), SpilledWindow> _spilled = [];

    /// <summary>The rows of a window and shard that spilled: per side, runs on disk and batches set aside since (of the
    /// <see cref="RowRun.Layout"/>), paired when the window closes.</summary>
    private sealed class SpilledWindow(long window, int shard)
    {
        public readonly long Window = window;
        public readonly int Shard = shard;
        public readonly List<string>[] Runs = [[], []];
        public readonly List<RecordBatch>[] Buffered = [[], []];
        public readonly long[] Rows = new long[2];
        /// <summary>Bytes of each side's rows, on disk or set aside.</summary>
        public readonly long[] Bytes = new long[2];
        public long BufferedRows;
        public long BufferedBytes;
        /// <summary>An interval join's: whether it holds rows that spilled (rather than only rows moved to it once out of reach, <see cref="Retire"/>).</summary>
        public bool HasSpilled;
        /// <summary>An interval join's: the numbers of its rows found matched since they were written (by the close of the bucket before).</summary>
        public readonly HashSet<long> Matched = [];
    }

    private int TimeColumn(int side) => side == 0 ? _spec.Time!.LeftColumn : _spec.Time!.RightColumn;

    /// <summary>Where a keyed row kept in memory spills: a window join's, its window (its time column's value: one of the
    /// join keys); an interval join's, the bucket of its time (false for a NULL time: such a row matches nothing).</summary>
    private bool TryUnitOf(int side, int entry, out long unit)
    {
        var rows = _rows[side];
        var column = rows.Chunk(entry).Column(TimeColumn(side));
        int row = rows.Row(entry);
        unit = 0;
        if (_interval && column.IsNull(row)) return false;
        long t = Vectors.Values<long>(column)[row];
        unit = _interval ? BucketOf(t) : t;
        return true;
    }

    private long BucketOf(long t) => t / _width - (t % _width < 0 ? 1 : 0);

    private long BucketStart(long bucket) => bucket < long.MinValue / _width ? long.MinValue : bucket * _width;

    private long BucketEnd(long bucket) => bucket >= long.MaxValue / _width - 1 ? long.MaxValue - 1 : bucket * _width + _width - 1;

    private int ShardOf(int side, int entry) => _rows[side].Keyed(entry) ? ShardOf(_rows[side].Key(entry)) : 0;

    /// <summary>Reports what the rows in memory take (kept, and set aside for spilled windows) to the execution's budget.</summary>
    private void Report()
    {
        if (!_memory.Bounded) return;
        long held = _rows[0].Bytes + _rows[1].Bytes;
        foreach (var spilled in _spilled.Values) held += spilled.BufferedBytes + spilled.Matched.Count * 24L;
        _memory.Change(held - _held);
        _held = held;
    }

    /// <summary>Spills until what is held and <paramref name="incoming"/> bytes to come fit the budget, or nothing is left to spill.</summary>
    private void MakeRoom(long incoming)
    {
        while (_memory.Held + incoming > _memory.Options.MemoryBytes && SpillLargest(incoming)) { }
    }

    /// <summary>
    /// Spills what holds the most rows: the rows a spilled window set aside, written as a run of their own, or the rows
    /// in memory of a window and shard, which spills from then on, with as many of the next largest as make up what is
    /// over the budget (at the average row's bytes: one pass over the rows, not one a window); false when nothing is left.
    /// </summary>
    private bool SpillLargest(long incoming)
    {
        var counts = new Dictionary<(long, int), int>();
        for (int side = 0; side < 2; side++)
            foreach (int e in _rows[side].Living())
                if (_rows[side].Keyed(e) && TryUnitOf(side, e, out long unit))
                {
                    var at = (unit, ShardOf(side, e));
                    counts[at] = counts.GetValueOrDefault(at) + 1;
                }
        (long, int) most = default;
        int mostRows = 0;
        foreach (var (at, rows) in counts)
            if (rows > mostRows) (most, mostRows) = (at, rows);
        SpilledWindow? buffered = null;
        foreach (var spilled in _spilled.Values)
            if (spilled.BufferedRows > (buffered?.BufferedRows ?? 0)) buffered = spilled;
        if (mostRows == 0 && buffered is null) return false;
        long before = _held;
        if (buffered is not null && buffered.BufferedRows >= mostRows) Flush(buffered);
        else
        {
            long perRow = Math.Max(1, _held / Math.Max(1, _rows[0].Live + _rows[1].Live));
            long wanted = (_memory.Held + incoming - _memory.Options.MemoryBytes) / perRow + 1;
            var chosen = new HashSet<(long, int)>();
            long rows = 0;
            foreach (var (at, count) in counts.OrderByDescending(c => c.Value))
            {
                if (rows >= wanted && chosen.Count > 0) break;
                chosen.Add(at);
                rows += count;
            }
            Spill(chosen);
        }
        Report();
        if (_held < before) _memory.Dropped(before - _held);
        return true;
    }

    /// <summary>Spills the rows in memory of a window (an interval join's bucket) and shard, both sides, marked as paired
    /// among themselves (an interval join's with the number of the next row to come: those from it on did not see them).</summary>
    private void Spill(HashSet<(long Window, int Shard)> chosen)
    {
        foreach (var at in chosen)
        {
            if (!_spilled.TryGetValue(at, out var spilled)) _spilled.Add(at, spilled = new SpilledWindow(at.Window, at.Shard));
            spilled.HasSpilled = true;
        }
        for (int side = 0; side < 2; side++)
        {
            var rows = _rows[side];
            var entries = new Dictionary<(long, int), List<int>>();
            foreach (int e in rows.Living())
                if (rows.Keyed(e) && TryUnitOf(side, e, out long unit) && chosen.Contains((unit, ShardOf(side, e))))
                {
                    if (!entries.TryGetValue((unit, ShardOf(side, e)), out var list)) entries[(unit, ShardOf(side, e))] = list = [];
                    list.Add(e);
                }
            if (entries.Count == 0) continue;
            foreach (var (at, list) in entries)
            {
                var spilled = _spilled[at];
                string run = RowRun.Write(_memory, _layouts[side], Batches(side, list, pre: true));
                spilled.Runs[side].Add(run);
                spilled.Rows[side] += list.Count;
                spilled.Bytes[side] += new FileInfo(run).Length;
                foreach (int e in list) rows.Remove(e);
            }
            rows.Compact();
        }
    }

    /// <summary>Entries of <paramref name="side"/> kept in memory (in the order kept) as batches of the layout, a chunk and at most <see cref="RowRun.BatchRows"/> rows each.</summary>
    private IEnumerable<RecordBatch> Batches(int side, List<int> entries, bool pre)
    {
        var store = _rows[side];
        for (int start = 0; start < entries.Count;)
        {
            int chunk = store.ChunkOf(entries[start]);
            int end = start;
            while (end < entries.Count && end - start < RowRun.BatchRows && store.ChunkOf(entries[end]) == chunk) end++;
            var rows = new int[end - start];
            var keys = new BinaryArray.Builder();
            var matched = new BooleanArray.Builder();
            var pres = new BooleanArray.Builder();
            for (int i = start; i < end; i++)
            {
                int e = entries[i];
                rows[i - start] = store.Row(e);
                if (store.Keyed(e)) keys.Append(store.Key(e)); else keys.AppendNull();
                matched.Append(store.Matched(e));
                pres.Append(pre);
            }
            var source = store.Chunk(entries[start]);
            var columns = new IArrowArray[source.ColumnCount];
            for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(source.Column(c), rows);
            if (!_interval)
            {
                yield return RowRun.Batch(_layouts[side], columns, keys.Build(), matched.Build(), pres.Build(), rows.Length);
                start = end;
                continue;
            }
            var seqs = new Int64Array.Builder();
            var sinces = new Int64Array.Builder();
            var spilled = new Int64Array.Builder();
            for (int i = start; i < end; i++)
            {
                seqs.Append(store.Seq(entries[i]));
                sinces.Append(store.Since(entries[i]));
                spilled.Append(pre ? _seq + 1 : long.MaxValue);
            }
            yield return RowRun.Batch(_layouts[side], columns, [seqs.Build(), sinces.Build(), spilled.Build()], keys.Build(), matched.Build(), pres.Build(), rows.Length);
            start = end;
        }
    }

    /// <summary>Sets rows of <paramref name="batch"/> aside for a spilled window, unpaired (they arrived after its spill).</summary>
    private void Defer(SpilledWindow spilled, int side, RecordBatch batch, int[] rows, BinaryArray keys)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), rows);
        var flags = new BooleanArray.Builder().AppendRange(Enumerable.Repeat(false, rows.Length)).Build();
        SetAside(spilled, side, RowRun.Batch(_layouts[side], columns, keys, flags, flags, rows.Length));
    }

    private void SetAside(SpilledWindow spilled, int side, RecordBatch batch)
    {
        if (_interval) Note(spilled, batch);
        spilled.Buffered[side].Add(batch);
        spilled.Rows[side] += batch.Length;
        spilled.Bytes[side] += RowRun.Bytes(batch);
        spilled.BufferedRows += batch.Length;
        spilled.BufferedBytes += RowRun.Bytes(batch);
    }

    /// <summary>Writes what a spilled window set aside as a run of each side.</summary>
    private void Flush(SpilledWindow spilled)
    {
        for (int side = 0; side < 2; side++)
        {
            if (spilled.Buffered[side].Count == 0) continue;
            spilled.Runs[side].Add(RowRun.Write(_memory, _layouts[side], spilled.Buffered[side]));
            spilled.Buffered[side].Clear();
        }
        spilled.BufferedRows = 0;
        spilled.BufferedBytes = 0;
    }

    /// <summary>Every row of a side of a spilled window: its runs, then what it set aside, a batch at a time.</summary>
    private static IEnumerable<RecordBatch> Rows(SpilledWindow spilled, int side)
    {
        foreach (var run in spilled.Runs[side])
            foreach (var batch in RowRun.Read(run))
                yield return batch;
        foreach (var batch in spilled.Buffered[side]) yield return batch;
    }

    /// <summary>Whether no row to come can reach a spilled window (an interval join's bucket): both watermarks past its end and the other side's reach.</summary>
    private bool Closes(long window)
    {
        long end = _interval ? BucketEnd(window) : window;
        return _watermarks[1] > Reach(0, end) && _watermarks[0] > Reach(1, end);
    }

    /// <summary>Closes the spilled windows that no row to come can reach (both watermarks past them), or all of them.</summary>
    private void CloseSpilled(bool all)
    {
        var closing = _spilled.Keys.Where(at => all || Closes(at.Window))
            .OrderBy(at => at.Window).ThenBy(at => at.Shard).ToList();
        foreach (var at in closing)
        {
            var spilled = _spilled[at];
            _spilled.Remove(at);
            if (_interval) CloseBucket(spilled);
            else Close(spilled);
        }
        if (closing.Count > 0) Report();
    }

    /// <summary>
    /// The pairs of a closed spilled window not evaluated at arrival (see the type's comment), and its outer sides'
    /// rows that never matched: the side of fewer rows loaded into a hash table by key, the other streamed through it.
    /// When that side takes more than half the budget, both sides are first split by another hash of the key into parts
    /// written as runs, and each part closed in turn (a key's rows, so its pairs, are all in one part), up to
    /// <see cref="MaxSplits"/> times (past that a part is one key's, or a few keys', which no split divides), and not
    /// below <see cref="MinSplitRows"/> rows.
    /// </summary>
    private void Close(SpilledWindow spilled, int splits = 0)
    {
        int build = spilled.Rows[0] <= spilled.Rows[1] ? 0 : 1, probe = 1 - build;
        if (_memory.Bounded && splits < MaxSplits && spilled.Bytes[build] > _memory.Options.MemoryBytes / 2 && spilled.Rows[build] > MinSplitRows)
        {
            foreach (var part in Split(spilled, splits)) Close(part, splits + 1);
            return;
        }
        var batches = new List<RecordBatch>();
        var rows = new List<RecordBatch>();
        long bytes = 0;
        foreach (var batch in Rows(spilled, build))
        {
            batches.Add(batch);
            rows.Add(RowRun.Rows(_sides[build], batch));
            bytes += RowRun.Bytes(batch);
        }
        int total = batches.Sum(b => b.Length);
        var table = new KeyTable();
        var head = new int[16];
        var next = new int[total];
        var batchOf = new int[total];
        var rowOf = new int[total];
        var matched = new bool[total];
        var pre = new bool[total];
        for (int b = 0, e = 0; b < batches.Count; b++)
        {
            var keys = RowRun.Keys(batches[b]);
            var matches = RowRun.Matched(batches[b]);
            var pres = RowRun.Pre(batches[b]);
            for (int r = 0; r < batches[b].Length; r++, e++)
            {
                batchOf[e] = b;
                rowOf[e] = r;
                matched[e] = matches.GetValue(r) == true;
                pre[e] = pres.GetValue(r) == true;
                next[e] = -1;
                if (keys.IsNull(r)) continue;
                int id = table.GetOrAdd(keys.GetBytes(r), out bool added);
                if (added) { GroupArrays.Grow(ref head, id + 1); head[id] = -1; }
                next[e] = head[id];
                head[id] = e;
            }
        }
        bytes += table.Bytes + head.Length * 4L + total * 14L;
        if (_memory.Bounded) _memory.Change(bytes);

        foreach (var batch in Rows(spilled, probe))
        {
            var probeRows = RowRun.Rows(_sides[probe], batch);
            var keys = RowRun.Keys(batch);
            var matches = RowRun.Matched(batch);
            var pres = RowRun.Pre(batch);
            var probeMatched = new bool[batch.Length];
            _probe.Clear();
            _stored.Clear();
            for (int r = 0; r < batch.Length; r++)
            {
                probeMatched[r] = matches.GetValue(r) == true;
                if (keys.IsNull(r)) continue;
                int id = table.Find(keys.GetBytes(r));
                if (id < 0) continue;
                bool probePre = pres.GetValue(r) == true;
                for (int e = head[id]; e >= 0; e = next[e])
                {
                    if (probePre && pre[e]) continue; // paired when the later of the two arrived
                    _probe.Add(r);
                    _stored.Add(e);
                }
            }
            if (_probe.Count > 0) MatchClosed(probe, probeRows, probeMatched, rows, batchOf, rowOf, matched);
            if (!Keeps(probe)) continue;
            _unmatched.Clear();
            for (int r = 0; r < batch.Length; r++) if (!probeMatched[r]) _unmatched.Add(r);
            if (_unmatched.Count > 0) EmitUnmatched(probe, probeRows, _unmatched.ToArray());
        }
        if (Keeps(build))
            for (int b = 0, e = 0; b < rows.Count; b++)
            {
                _unmatched.Clear();
                for (int r = 0; r < rows[b].Length; r++, e++) if (!matched[e]) _unmatched.Add(r);
                if (_unmatched.Count > 0) EmitUnmatched(build, rows[b], _unmatched.ToArray());
            }
        for (int side = 0; side < 2; side++)
            foreach (var run in spilled.Runs[side]) _memory.Delete(run);
        if (!_memory.Bounded) return;
        _memory.Change(-bytes);
        _memory.Dropped(bytes);
    }

    /// <summary>
    /// The rows of a spilled window split into parts by a hash of the key seeded by <paramref name="splits"/> (unlike the
    /// shard's and earlier splits'), enough for a part's side to take a quarter of the budget, each part's rows written
    /// as runs (a part's rows set aside are written once they reach a batch of <see cref="RowRun.BatchRows"/> or their
    /// share of half the budget, so the split holds at most about that); the window's runs deleted.
    /// </summary>
    private List<SpilledWindow> Split(SpilledWindow spilled, int splits)
    {
        long most = Math.Max(spilled.Bytes[0], spilled.Bytes[1]);
        int count = (int)Math.Clamp(4 * most / Math.Max(1, _memory.Options.MemoryBytes) + 1, 2, MaxParts);
        var parts = new List<SpilledWindow>(count);
        for (int p = 0; p < count; p++) parts.Add(new SpilledWindow(spilled.Window, spilled.Shard));
        var rows = new List<int>[count];
        for (int side = 0; side < 2; side++)
        {
            foreach (var batch in Rows(spilled, side))
            {
                var keys = RowRun.Keys(batch);
                for (int p = 0; p < count; p++) (rows[p] ??= []).Clear();
                for (int r = 0; r < batch.Length; r++)
                    rows[keys.IsNull(r) ? 0 : (int)(XxHash3.HashToUInt64(keys.GetBytes(r), splits + 1) % (ulong)count)].Add(r);
                for (int p = 0; p < count; p++)
                {
                    if (rows[p].Count == 0) continue;
                    SetAside(parts[p], side, rows[p].Count == batch.Length ? batch : Take(_layouts[side], batch, rows[p].ToArray()));
                    if (parts[p].BufferedRows >= RowRun.BatchRows || parts[p].BufferedBytes * count >= _memory.Options.MemoryBytes / 2) Flush(parts[p]);
                }
            }
            foreach (var run in spilled.Runs[side]) _memory.Delete(run);
            spilled.Runs[side].Clear();
            spilled.Buffered[side].Clear();
            foreach (var part in parts) Flush(part);
        }
        return parts;
    }

    /// <summary>The pairs <see cref="_probe"/> (rows of <paramref name="batch"/>) and <see cref="_stored"/> (entries of the loaded side), a loaded batch at a time.</summary>
    private void MatchClosed(int side, RecordBatch batch, bool[] probeMatched, List<RecordBatch> stored, int[] batchOf, int[] rowOf, bool[] matched)
    {
        var order = Enumerable.Range(0, _probe.Count).ToArray();
        var storedBatch = new int[order.Length];
        for (int p = 0; p < order.Length; p++) storedBatch[p] = batchOf[_stored[p]];
        Array.Sort(storedBatch, order);
        for (int start = 0; start < order.Length;)
        {
            int b = storedBatch[start];
            int end = start;
            while (end < order.Length && storedBatch[end] == b && end - start < PairsPerBatch) end++;
            var probeRows = new int[end - start];
            var storedRows = new int[end - start];
            var storedEntries = new int[end - start];
            for (int p = start; p < end; p++)
            {
                probeRows[p - start] = _probe[order[p]];
                storedEntries[p - start] = _stored[order[p]];
                storedRows[p - start] = rowOf[_stored[order[p]]];
            }
            var pair = side == 0 ? Pair(batch, probeRows, stored[b], storedRows) : Pair(stored[b], storedRows, batch, probeRows);
            var selection = Accept(pair);
            int count = selection?.Length ?? pair.Length;
            for (int s = 0; s < count; s++)
            {
                int p = selection is null ? s : selection[s];
                probeMatched[probeRows[p]] = true;
                matched[storedEntries[p]] = true;
            }
            if (selection is null) Emit(pair);
            else if (selection.Length > 0) Emit(Select(pair, selection));
            start = end;
        }
    }

    /// <summary>
    /// The watermarks, and the layout marker; then, in one stream, the shard count and each shard's rows
    /// (<see cref="WriteShard"/>).
    /// </summary>
    public void WriteState(BinaryWriter writer)
    {
        WriteWatermarks(writer);
        writer.Write(ShardedLayout);
        writer.Write(_shards);
        for (int s = 0; s < _shards; s++) WriteShard(writer, s);
    }

    /// <summary>The watermarks; the rows are written by <see cref="WriteShard"/>, a shard at a time.</summary>
    public void WriteStateApart(BinaryWriter writer)
    {
        WriteWatermarks(writer);
        writer.Write(ApartLayout);
    }

    private void WriteWatermarks(BinaryWriter writer)
    {
        writer.Write(_watermarks[0]);
        writer.Write(_watermarks[1]);
        writer.Write(_watermark);
    }

    /// <summary>
    /// Shard <paramref name="shard"/>'s rows: each side's rows in memory (those with a NULL key in shard 0), then its
    /// spilled windows, each its window and each side's rows, read from the runs a batch at a time. Each batch (of the
    /// <see cref="RowRun.Layout"/>) is preceded by true, and a side's last followed by false.
    /// </summary>
    public void WriteShard(BinaryWriter writer, int shard)
    {
        for (int side = 0; side < 2; side++)
        {
            var entries = new List<int>();
            foreach (int e in _rows[side].Living())
                if (_shards == 1 || ShardOf(side, e) == shard) entries.Add(e);
            foreach (var batch in Batches(side, entries, pre: false))
            {
                writer.Write(true);
                RowRun.Save(writer, batch);
            }
            writer.Write(false);
        }
        var windows = _spilled.Values.Where(w => w.Shard == shard).OrderBy(w => w.Window).ToList();
        writer.Write(windows.Count);
        foreach (var spilled in windows)
        {
            writer.Write(spilled.Window);
            for (int side = 0; side < 2; side++)
            {
                foreach (var batch in Rows(spilled, side))
                {
                    writer.Write(true);
                    RowRun.Save(writer, spilled.Matched.Count > 0 ? WithMatches(spilled, batch) : batch);
                }
                writer.Write(false);
            }
        }
    }

    /// <summary>Reads a snapshot of any shard count (or of the layout before shards); of one with the shards apart, the
    /// watermarks, the rows coming with <see cref="ReadShard"/>.</summary>
    public void ReadState(BinaryReader reader)
    {
        _watermarks[0] = reader.ReadInt64();
        _watermarks[1] = reader.ReadInt64();
        _watermark = reader.ReadInt64();
        _rows[0].Clear();
        _rows[1].Clear();
        foreach (var spilled in _spilled.Values)
            for (int side = 0; side < 2; side++)
                foreach (var run in spilled.Runs[side]) _memory.Delete(run);
        _spilled.Clear();
        int layout = reader.ReadInt32();
        if (layout >= 0)
        {
            _rows[0].Read(reader, layout);
            _rows[1].Read(reader, reader.ReadInt32());
            Settle();
            return;
        }
        if (layout == ApartLayout) return;
        if (layout != ShardedLayout) throw new InvalidDataException($"the state of a join has a layout {layout} this version does not read");
        int shards = reader.ReadInt32();
        if (shards < 1) throw new InvalidDataException($"the state of a join has {shards} shards");
        for (int s = 0; s < shards; s++) ReadShard(reader, s, shards);
    }

    /// <summary>
    /// Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot: its rows in memory kept again; its
    /// spilled windows' rows set aside for the window and shard their key gives here (with their flags: a key's rows
    /// were all in the same shard before, so the rows marked paired among themselves still are).
    /// </summary>
    public void ReadShard(BinaryReader reader, int shard, int shards)
    {
        for (int side = 0; side < 2; side++)
            while (reader.ReadBoolean()) Keep(side, RowRun.Load(reader, _layouts[side]));
        int windows = reader.ReadInt32();
        if (windows < 0) throw new InvalidDataException($"the state of a join has {windows} spilled windows");
        for (int i = 0; i < windows; i++)
        {
            long window = reader.ReadInt64();
            for (int side = 0; side < 2; side++)
                while (reader.ReadBoolean())
                {
                    var batch = RowRun.Load(reader, _layouts[side]);
                    var keys = RowRun.Keys(batch);
                    var byShard = new Dictionary<int, List<int>>();
                    for (int r = 0; r < batch.Length; r++)
                    {
                        if (keys.IsNull(r)) throw new InvalidDataException("the state of a join has a spilled row without a key");
                        int s = ShardOf(keys.GetBytes(r));
                        if (!byShard.TryGetValue(s, out var rows)) byShard[s] = rows = [];
                        rows.Add(r);
                    }
                    foreach (var (s, rows) in byShard)
                    {
                        if (!_spilled.TryGetValue((window, s), out var spilled)) _spilled[(window, s)] = spilled = new SpilledWindow(window, s);
                        SetAside(spilled, side, rows.Count == batch.Length ? batch : Take(_layouts[side], batch, rows.ToArray()));
                    }
                }
        }
        Settle();
    }

    /// <summary>Keeps the rows of a snapshot's batch in memory, each with its key, match and expiry.</summary>
    private void Keep(int side, RecordBatch batch)
    {
        var rows = RowRun.Rows(_sides[side], batch);
        var keys = RowRun.Keys(batch);
        var matched = RowRun.Matched(batch);
        var store = _rows[side];
        int chunk = store.AddChunk(rows);
        if (!_interval)
            for (int r = 0; r < batch.Length; r++)
                store.Add(chunk, r, !keys.IsNull(r), keys.IsNull(r) ? default : keys.GetBytes(r), Expiry(side, rows, r), matched.GetValue(r) == true);
        else
        {
            var (seqs, sinces, _) = RowRun.Arrivals(batch);
            for (int r = 0; r < batch.Length; r++)
            {
                // numbers start at 1: a 0 is a row of a snapshot from before rows were numbered, numbered here (in memory, all before any to come)
                long seq = seqs.GetValue(r)!.Value;
                if (seq == 0) seq = ++_seq;
                store.Add(chunk, r, !keys.IsNull(r), keys.IsNull(r) ? default : keys.GetBytes(r), Expiry(side, rows, r), matched.GetValue(r) == true,
                    seq, sinces.GetValue(r)!.Value);
                _seq = Math.Max(_seq, seq);
            }
        }
        store.Tidy();
    }

    /// <summary>
    /// After rows were read: rows in memory of a window and shard that spilled (read from a shard of another count whose
    /// part of it had not) go with its spilled rows, marked paired among themselves (they were, and they share no key with
    /// the rows spilled elsewhere); then what is held is reported, spilling past the budget.
    /// </summary>
    private void Settle()
    {
        // (an interval join's rows in memory and on disk of a bucket and shard stay apart: their arrivals say which pairs were seen)
        if (_spilled.Count > 0 && !_interval)
            for (int side = 0; side < 2; side++)
            {
                var moved = new Dictionary<SpilledWindow, List<int>>();
                foreach (int e in _rows[side].Living())
                    if (_rows[side].Keyed(e) && TryUnitOf(side, e, out long window) && _spilled.TryGetValue((window, ShardOf(side, e)), out var spilled))
                    {
                        if (!moved.TryGetValue(spilled, out var entries)) moved[spilled] = entries = [];
                        entries.Add(e);
                    }
                foreach (var (spilled, entries) in moved)
                {
                    foreach (var batch in Batches(side, entries, pre: true)) SetAside(spilled, side, batch);
                    foreach (int e in entries) _rows[side].Remove(e);
                }
                if (moved.Count > 0) _rows[side].Compact();
            }
        if (!_memory.Bounded) return;
        Report();
        if (_spills) MakeRoom(0);
    }

    private static RecordBatch Take(Schema schema, RecordBatch batch, int[] rows)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), rows);
        return new RecordBatch(schema, columns, rows.Length);
    }
}
