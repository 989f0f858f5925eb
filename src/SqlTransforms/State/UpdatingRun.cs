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
                foreach (var (keys, aggregates, changed) in GroupRun.Merge(oldest, codec, empty, RunWriter.BatchRows))
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
        return GroupRun.Merge(runs, codec, empty, groups);
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
