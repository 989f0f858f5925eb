using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// Sorted runs of groups on local disk: an Arrow IPC stream of (key, state) rows in the byte order of the keys, each
/// key once, its state from <see cref="GroupStateCodec"/>. Runs are merged a batch at a time: a key found in several
/// runs (it came back after a spill) has its states folded together, so the merge holds one batch per run and one
/// batch of merged groups, whatever the runs hold in all.
/// </summary>
internal static class GroupRun
{
    private static readonly Schema RunSchema = new([new Field("key", BinaryType.Default, false), new Field("state", BinaryType.Default, false)], null);

    /// <summary>Writes every group of <paramref name="keys"/> as a new run, in key order; answers its path. The table is
    /// read by id only after (<see cref="KeyTable.SortedForSpill"/>): the caller empties it or lets it go.</summary>
    public static string Write(StateMemory memory, KeyTable keys, AggregateSet aggregates, GroupStateCodec codec)
    {
        using var run = new Writer(memory);
        foreach (int id in keys.SortedForSpill()) run.Add(keys.Key(id), codec.Encode(aggregates, id));
        return run.Finish();
    }

    /// <summary>
    /// The groups of <paramref name="runs"/> in key order, each key once with its states merged, in batches of at most
    /// <paramref name="groups"/> keys (valid until the next batch is asked for). More than <see cref="RunReader.MaxMergeWidth"/>
    /// runs are first merged into fewer (the list is changed to name them, and the merged runs are deleted, but those of
    /// <paramref name="kept"/>: the caller's, read again later).
    /// </summary>
    public static IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> Merge(StateMemory memory, List<string> runs, GroupStateCodec codec,
        Func<AggregateSet> empty, int groups, IReadOnlySet<string>? kept = null)
    {
        while (runs.Count > RunReader.MaxMergeWidth)
        {
            var first = runs.GetRange(0, RunReader.MaxMergeWidth);
            runs.RemoveRange(0, first.Count);
            using (var run = new Writer(memory))
            {
                foreach (var (keys, aggregates, _) in Merge(first, codec, empty, RunWriter.BatchRows))
                    for (int id = 0; id < keys.Count; id++) run.Add(keys.Key(id), codec.Encode(aggregates, id));
                runs.Add(run.Finish());
            }
            foreach (var merged in first)
                if (kept is null || !kept.Contains(merged)) memory.Delete(merged);
        }
        return WithoutChanged(Merge(runs, codec, empty, groups));
    }

    private static IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> WithoutChanged(
        IEnumerable<(KeyTable Keys, AggregateSet Aggregates, ArraySegment<int> Changed)> merged)
    {
        foreach (var (keys, aggregates, _) in merged) yield return (keys, aggregates);
    }

    /// <summary>
    /// The groups of <paramref name="runs"/> in key order, each key once with its states folded in the order of the
    /// runs, in batches of at most <paramref name="groups"/> keys; with the ids of those changed when the runs are
    /// <see cref="UpdatingRun"/>'s (a third column, whether the group changed: changed if any of its rows was).
    /// </summary>
    internal static IEnumerable<(KeyTable Keys, AggregateSet Aggregates, ArraySegment<int> Changed)> Merge(IReadOnlyList<string> runs,
        GroupStateCodec codec, Func<AggregateSet> empty, int groups)
    {
        var sources = new Source[runs.Count];
        try
        {
            for (int r = 0; r < sources.Length; r++) sources[r] = new Source(runs[r]);
            var queue = RunReader.ByKey(sources);
            var keys = new KeyTable();
            var aggregates = empty();
            int[]? changed = null;
            int changedCount = 0;
            int current = -1;
            while (queue.Count > 0)
            {
                int r = queue.Dequeue();
                var source = sources[r];
                bool next = current < 0 || !keys.Key(current).SequenceEqual(source.Key);
                if (next && keys.Count == groups)
                {
                    yield return (keys, aggregates, Changed(changed, changedCount));
                    keys = new KeyTable();
                    aggregates = empty();
                    changed = null;
                    changedCount = 0;
                }
                if (next) current = keys.GetOrAdd(source.Key);
                codec.MergeInto(source.State, aggregates, current);
                if (source.Changed && (changedCount == 0 || changed![changedCount - 1] != current))
                {
                    changed ??= new int[groups];
                    changed[changedCount++] = current;
                }
                if (source.Next()) queue.Enqueue(r, r);
            }
            if (keys.Count > 0) yield return (keys, aggregates, Changed(changed, changedCount));
        }
        finally
        {
            foreach (var source in sources) source?.Dispose();
        }
    }

    private static ArraySegment<int> Changed(int[]? changed, int count) => changed is null ? ArraySegment<int>.Empty : new(changed, 0, count);

    /// <summary>One run being merged: its reader, its current batch and row.</summary>
    private sealed class Source(string path) : RunReader(path)
    {
        private BinaryArray? _states;
        private BooleanArray? _changed;

        public ReadOnlySpan<byte> State => _states!.GetBytes(Index);

        /// <summary>Whether the group changed (an <see cref="UpdatingRun"/>'s); false in a run without the column.</summary>
        public bool Changed => _changed?.GetValue(Index) == true;

        protected override void Columns(RecordBatch batch)
        {
            _states = (BinaryArray)batch.Column(1);
            _changed = batch.ColumnCount > 2 ? (BooleanArray)batch.Column(2) : null;
        }
    }

    /// <summary>Writes rows, already in key order, to a new run.</summary>
    private sealed class Writer(StateMemory memory) : RunWriter(memory, RunSchema)
    {
        private Utf8Builder _states = Column(16);

        public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> state)
        {
            _states.Append(state);
            EndRow(key);
        }

        protected override IArrowArray[] Columns(IArrowArray keys, int rows) => [keys, Take(ref _states, 16)];

        public string Finish() => End();
    }
}
