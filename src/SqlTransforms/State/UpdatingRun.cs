using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// Sorted runs of an updating aggregate's groups on local disk: as <see cref="GroupRun"/>'s, an Arrow IPC stream of
/// (key, state) rows in the byte order of the keys, each key once, plus whether the group changed since the last
/// flush (its row is due in the sink). Merged a batch at a time: a key found in several runs has its states folded
/// together, oldest run first, and changed if any of them was.
/// </summary>
internal static class UpdatingRun
{
    private static readonly Schema RunSchema = new([
        new Field("key", BinaryType.Default, false), new Field("state", BinaryType.Default, false), new Field("changed", BooleanType.Default, false)], null);

    /// <summary>Writes every group of <paramref name="keys"/> as a new run, in key order, each changed as
    /// <paramref name="changed"/> says; answers its path. The table is read by id only after
    /// (<see cref="KeyTable.SortedForSpill"/>): the caller empties it.</summary>
    public static string Write(StateMemory memory, KeyTable keys, AggregateSet aggregates, GroupStateCodec codec, ReadOnlySpan<bool> changed)
    {
        using var run = new Writer(memory);
        foreach (int id in keys.SortedForSpill()) run.Add(keys.Key(id), codec.Encode(aggregates, id), id < changed.Length && changed[id]);
        return run.Finish();
    }

    /// <summary>
    /// The groups of <paramref name="runs"/> (oldest first) in key order, each key once with its states merged, in
    /// batches of at most <paramref name="groups"/> keys with the ids of those changed (valid until the next batch is
    /// asked for). More than <see cref="RunReader.MaxMergeWidth"/> runs are first merged into fewer: the oldest into one
    /// that takes their place (the list is changed to name it, and they are deleted).
    /// </summary>
    public static IEnumerable<(KeyTable Keys, AggregateSet Aggregates, ArraySegment<int> Changed)> Merge(StateMemory memory, List<string> runs,
        GroupStateCodec codec, Func<AggregateSet> empty, int groups)
    {
        while (runs.Count > RunReader.MaxMergeWidth)
        {
            var oldest = runs.GetRange(0, RunReader.MaxMergeWidth);
            using (var run = new Writer(memory))
            {
                foreach (var (keys, aggregates, changed) in Merge(oldest, codec, empty, RunWriter.BatchRows))
                {
                    int next = 0;
                    for (int id = 0; id < keys.Count; id++)
                    {
                        bool flagged = next < changed.Count && changed[next] == id;
                        if (flagged) next++;
                        run.Add(keys.Key(id), codec.Encode(aggregates, id), flagged);
                    }
                }
                runs.RemoveRange(0, oldest.Count);
                runs.Insert(0, run.Finish());
            }
            foreach (var merged in oldest) memory.Delete(merged);
        }
        return Merge(runs, codec, empty, groups);
    }

    private static IEnumerable<(KeyTable Keys, AggregateSet Aggregates, ArraySegment<int> Changed)> Merge(IReadOnlyList<string> runs,
        GroupStateCodec codec, Func<AggregateSet> empty, int groups)
    {
        var sources = new Source[runs.Count];
        try
        {
            for (int r = 0; r < sources.Length; r++) sources[r] = new Source(runs[r]);
            // a key's states are folded oldest run first (first_value, array_agg: arrival order)
            var queue = RunReader.ByKey(sources);
            var keys = new KeyTable();
            var aggregates = empty();
            var changed = new int[groups];
            int changedCount = 0;
            int current = -1;
            while (queue.Count > 0)
            {
                int r = queue.Dequeue();
                var source = sources[r];
                bool next = current < 0 || !keys.Key(current).SequenceEqual(source.Key);
                if (next && keys.Count == groups)
                {
                    yield return (keys, aggregates, new ArraySegment<int>(changed, 0, changedCount));
                    keys = new KeyTable();
                    aggregates = empty();
                    changed = new int[groups];
                    changedCount = 0;
                }
                if (next) current = keys.GetOrAdd(source.Key);
                codec.MergeInto(source.State, aggregates, current);
                if (source.Changed && (changedCount == 0 || changed[changedCount - 1] != current)) changed[changedCount++] = current;
                if (source.Next()) queue.Enqueue(r, r);
            }
            if (keys.Count > 0) yield return (keys, aggregates, new ArraySegment<int>(changed, 0, changedCount));
        }
        finally
        {
            foreach (var source in sources) source?.Dispose();
        }
    }

    /// <summary>One run being merged: its reader, its current batch and row.</summary>
    private sealed class Source(string path) : RunReader(path)
    {
        private BinaryArray? _states;
        private BooleanArray? _changed;

        public ReadOnlySpan<byte> State => _states!.GetBytes(Index);

        public bool Changed => _changed!.GetValue(Index) == true;

        protected override void Columns(RecordBatch batch)
        {
            _states = (BinaryArray)batch.Column(1);
            _changed = (BooleanArray)batch.Column(2);
        }
    }

    /// <summary>Writes rows, already in key order, to a new run.</summary>
    public sealed class Writer(StateMemory memory) : RunWriter(memory, RunSchema)
    {
        private Utf8Builder _states = Column(16);
        private BooleanArray.Builder _changed = new BooleanArray.Builder().Reserve(BatchRows);

        public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> state, bool changed)
        {
            _states.Append(state);
            _changed.Append(changed);
            EndRow(key);
        }

        protected override IArrowArray[] Columns(IArrowArray keys, int rows)
        {
            var changed = _changed.Build();
            _changed = new BooleanArray.Builder().Reserve(BatchRows);
            return [keys, Take(ref _states, 16), changed];
        }

        public string Finish() => End();
    }
}
