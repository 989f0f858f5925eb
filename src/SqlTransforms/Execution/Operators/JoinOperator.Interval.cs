using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.State;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// An interval join's rows past the budget. Its rows are grouped by shard of the join key and by bucket of their time,
/// buckets wider than two matching rows' times can differ (<see cref="_width"/>), so a row matches only rows of its own
/// and the neighbouring buckets. Rows are numbered as they arrive (across both sides); what spills is the rows in memory
/// of a bucket and shard, each marked with the number of the first row that arrived while it was on disk. Rows go on
/// arriving into memory and pairing with what is there, so a pair of rows was evaluated at the arrival of the later
/// one exactly when the earlier one was in memory then (it had not spilled before the later one's number) and could
/// still match (its time plus its reach not behind the later row's side's watermark when it came: both kept with the
/// row). Every other pair with an earlier row on disk is evaluated when the lower of the two rows' buckets closes (both
/// watermarks past its end and the reaches: nothing to come can match its rows), against the rows of that bucket and the
/// next, on disk or in memory. A row in memory that could be such a later row (a bucket near spilled rows) is moved to
/// its bucket's spilled rows when it goes out of reach, instead of forgotten, and shown unmatched (an outer side's) only
/// at its bucket's close; the rows of the next bucket found matched there are noted (their numbers) for their own close.
/// So every pair is evaluated once, and each row shows unmatched once when nothing could match it any more. The output
/// watermark waits for the spilled buckets' starts.
/// </summary>
internal sealed partial class JoinOperator
{
    /// <summary>Notes an interval join's rows set aside in a spilled bucket: whether some spilled, and their numbers (a
    /// restored join numbers the rows to come after them).</summary>
    private void Note(SpilledWindow spilled, RecordBatch batch)
    {
        var (seqs, _, spills) = RowRun.Arrivals(batch);
        for (int r = 0; r < batch.Length; r++)
        {
            long at = spills.GetValue(r)!.Value;
            if (at != long.MaxValue)
            {
                spilled.HasSpilled = true;
                _seq = Math.Max(_seq, at - 1);
            }
            _seq = Math.Max(_seq, seqs.GetValue(r)!.Value);
        }
    }

    /// <summary>Whether rows spilled in the bucket or a neighbouring one, of the shard: a row of the bucket in memory may pair with them at their close.</summary>
    private bool SpilledNear(long bucket, int shard)
    {
        for (long b = bucket - 1; b <= bucket + 1; b++)
            if (_spilled.TryGetValue((b, shard), out var spilled) && spilled.HasSpilled) return true;
        return false;
    }

    /// <summary>
    /// Moves the rows of <paramref name="side"/> that just went out of reach (<see cref="_expired"/>) near spilled rows to
    /// their bucket's spilled rows (not shown unmatched now: their bucket's close decides). A later row on disk never
    /// pairs with them (it could not match them any more), so they are marked as never on disk.
    /// </summary>
    private void Retire(int side)
    {
        var store = _rows[side];
        Dictionary<SpilledWindow, List<int>>? moved = null;
        HashSet<int>? retired = null;
        foreach (int e in _expired)
        {
            if (!store.Keyed(e) || !TryUnitOf(side, e, out long bucket)) continue;
            int shard = ShardOf(side, e);
            if (!SpilledNear(bucket, shard)) continue;
            if (!_spilled.TryGetValue((bucket, shard), out var spilled)) _spilled.Add((bucket, shard), spilled = new SpilledWindow(bucket, shard));
            moved ??= [];
            retired ??= [];
            if (!moved.TryGetValue(spilled, out var entries)) moved[spilled] = entries = [];
            entries.Add(e);
            retired.Add(e);
        }
        if (moved is null) return;
        _unmatched.RemoveAll(retired!.Contains);
        foreach (var (spilled, entries) in moved)
            foreach (var batch in Batches(side, entries, pre: false)) SetAside(spilled, side, batch);
    }

    /// <summary>A batch of a spilled bucket with the rows found matched since it was written marked so.</summary>
    private static RecordBatch WithMatches(SpilledWindow spilled, RecordBatch batch)
    {
        var (seqs, _, _) = RowRun.Arrivals(batch);
        var matched = RowRun.Matched(batch);
        var flags = new BooleanArray.Builder();
        for (int r = 0; r < batch.Length; r++) flags.Append(matched.GetValue(r) == true || spilled.Matched.Contains(seqs.GetValue(r)!.Value));
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        columns[^2] = flags.Build();
        return new RecordBatch(batch.Schema, columns, batch.Length);
    }

    /// <summary>A row's number, watermark at arrival, first number that did not see it in memory, and reach.</summary>
    private readonly record struct Arrival(long Seq, long Since, long Spilled, long Reach);

    /// <summary>Whether a pair was left to the close: its earlier row was on disk when the later came, and could still match it.</summary>
    private static bool Pending(Arrival a, Arrival b)
    {
        var (earlier, later) = a.Seq < b.Seq ? (a, b) : (b, a);
        return earlier.Spilled <= later.Seq && earlier.Reach >= later.Since;
    }

    private Arrival ArrivalOf(int side, RecordBatch batch, int row)
    {
        var (seqs, sinces, spills) = RowRun.Arrivals(batch);
        long t = Vectors.Values<long>(batch.Column(TimeColumn(side)))[row];
        return new Arrival(seqs.GetValue(row)!.Value, sinces.GetValue(row)!.Value, spills.GetValue(row)!.Value, Reach(side, t));
    }

    /// <summary>
    /// Closes a spilled bucket: evaluates the pairs left to it (<see cref="Pending"/>) of its rows with each other and with
    /// the next bucket's rows (spilled or in memory), then shows its outer sides' rows that never matched. Each side of
    /// it in turn is loaded into a hash table by key and the other side's rows streamed through it: its own (once), the
    /// next bucket's spilled rows, then those of the next bucket in memory with a key of the table.
    /// </summary>
    private void CloseBucket(SpilledWindow spilled)
    {
        _spilled.TryGetValue((spilled.Window + 1, spilled.Shard), out var next);
        for (int build = 0; build < 2; build++)
        {
            int probe = 1 - build;
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
            if (total == 0) continue;
            var table = new KeyTable();
            var head = new int[16];
            var chain = new int[total];
            var batchOf = new int[total];
            var rowOf = new int[total];
            var matched = new bool[total];
            var arrivals = new Arrival[total];
            for (int b = 0, e = 0; b < batches.Count; b++)
            {
                var keys = RowRun.Keys(batches[b]);
                for (int r = 0; r < batches[b].Length; r++, e++)
                {
                    batchOf[e] = b;
                    rowOf[e] = r;
                    arrivals[e] = ArrivalOf(build, batches[b], r);
                    chain[e] = -1;
                    int id = table.GetOrAdd(keys.GetBytes(r), out bool added);
                    if (added) { GroupArrays.Grow(ref head, id + 1); head[id] = -1; }
                    chain[e] = head[id];
                    head[id] = e;
                }
            }
            bytes += table.Bytes + head.Length * 4L + total * 45L;
            if (_memory.Bounded) _memory.Change(bytes);

            void Probe(RecordBatch batch, Action<int> found)
            {
                var probeRows = RowRun.Rows(_sides[probe], batch);
                var keys = RowRun.Keys(batch);
                var probeMatched = new bool[batch.Length];
                _probe.Clear();
                _stored.Clear();
                for (int r = 0; r < batch.Length; r++)
                {
                    int id = table.Find(keys.GetBytes(r));
                    if (id < 0) continue;
                    var arrival = ArrivalOf(probe, batch, r);
                    for (int e = head[id]; e >= 0; e = chain[e])
                        if (Pending(arrivals[e], arrival))
                        {
                            _probe.Add(r);
                            _stored.Add(e);
                        }
                }
                if (_probe.Count == 0) return;
                MatchClosed(probe, probeRows, probeMatched, rows, batchOf, rowOf, matched);
                for (int r = 0; r < batch.Length; r++) if (probeMatched[r]) found(r);
            }

            // (a row's match matters only on an outer side: shown unmatched or not)
            bool outer = Keeps(probe);
            if (build == 0)
                foreach (var batch in Rows(spilled, probe))
                {
                    var seqs = RowRun.Arrivals(batch).Seq;
                    Probe(batch, r => { if (outer) spilled.Matched.Add(seqs.GetValue(r)!.Value); });
                }
            if (next is not null)
                foreach (var batch in Rows(next, probe))
                {
                    var seqs = RowRun.Arrivals(batch).Seq;
                    Probe(batch, r => { if (outer) next.Matched.Add(seqs.GetValue(r)!.Value); });
                }
            var store = _rows[probe];
            var entries = new List<int>();
            for (int id = 0; id < table.Count; id++)
                for (int e = store.First(table.Key(id)); e >= 0; e = store.Next(e))
                    if (TryUnitOf(probe, e, out long bucket) && bucket == spilled.Window + 1) entries.Add(e);
            entries.Sort();
            int done = 0;
            foreach (var batch in Batches(probe, entries, pre: false))
            {
                int offset = done;
                Probe(batch, r => store.SetMatched(entries[offset + r]));
                done += batch.Length;
            }
            if (Keeps(build))
                for (int e = 0; e < total; e++) if (matched[e]) spilled.Matched.Add(arrivals[e].Seq);
            if (!_memory.Bounded) continue;
            _memory.Change(-bytes);
            _memory.Dropped(bytes);
        }
        for (int side = 0; side < 2; side++)
        {
            if (!Keeps(side)) continue;
            foreach (var batch in Rows(spilled, side))
            {
                var seqs = RowRun.Arrivals(batch).Seq;
                var flags = RowRun.Matched(batch);
                _unmatched.Clear();
                for (int r = 0; r < batch.Length; r++)
                    if (flags.GetValue(r) != true && !spilled.Matched.Contains(seqs.GetValue(r)!.Value)) _unmatched.Add(r);
                if (_unmatched.Count > 0) EmitUnmatched(side, RowRun.Rows(_sides[side], batch), _unmatched.ToArray());
            }
        }
        for (int side = 0; side < 2; side++)
            foreach (var run in spilled.Runs[side]) _memory.Delete(run);
    }
}
