using Apache.Arrow;
using Apache.Arrow.Ipc;
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
    /// <summary>Rows per Arrow batch of a run: what a merge holds per run, so at most <see cref="MaxMergeWidth"/> times
    /// this many rows whatever the state (a bound on what a window's close or a checkpoint holds beside the budget).</summary>
    public const int BatchRows = 1024;

    /// <summary>Most runs merged at once; past it the oldest are merged into one run first.</summary>
    public const int MaxMergeWidth = 64;

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
    /// <paramref name="groups"/> keys (valid until the next batch is asked for). More than <see cref="MaxMergeWidth"/>
    /// runs are first merged into fewer (the list is changed to name them, and the merged runs are deleted, but those of
    /// <paramref name="kept"/>: the caller's, read again later).
    /// </summary>
    public static IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> Merge(StateMemory memory, List<string> runs, GroupStateCodec codec,
        Func<AggregateSet> empty, int groups, IReadOnlySet<string>? kept = null)
    {
        while (runs.Count > MaxMergeWidth)
        {
            var first = runs.GetRange(0, MaxMergeWidth);
            runs.RemoveRange(0, first.Count);
            using (var run = new Writer(memory))
            {
                foreach (var (keys, aggregates) in Merge(first, codec, empty, BatchRows))
                    for (int id = 0; id < keys.Count; id++) run.Add(keys.Key(id), codec.Encode(aggregates, id));
                runs.Add(run.Finish());
            }
            foreach (var merged in first)
                if (kept is null || !kept.Contains(merged)) memory.Delete(merged);
        }
        return Merge(runs, codec, empty, groups);
    }

    private static IEnumerable<(KeyTable Keys, AggregateSet Aggregates)> Merge(IReadOnlyList<string> runs, GroupStateCodec codec, Func<AggregateSet> empty, int groups)
    {
        var sources = new Source[runs.Count];
        try
        {
            for (int r = 0; r < sources.Length; r++) sources[r] = new Source(runs[r]);
            var queue = new PriorityQueue<int, int>(Comparer<int>.Create((a, b) =>
            {
                int c = sources[a].Key.SequenceCompareTo(sources[b].Key);
                return c != 0 ? c : a.CompareTo(b);
            }));
            for (int r = 0; r < sources.Length; r++)
                if (sources[r].Next()) queue.Enqueue(r, r);
            var keys = new KeyTable();
            var aggregates = empty();
            int current = -1;
            while (queue.Count > 0)
            {
                int r = queue.Dequeue();
                var source = sources[r];
                bool next = current < 0 || !keys.Key(current).SequenceEqual(source.Key);
                if (next && keys.Count == groups)
                {
                    yield return (keys, aggregates);
                    keys = new KeyTable();
                    aggregates = empty();
                }
                if (next) current = keys.GetOrAdd(source.Key);
                codec.MergeInto(source.State, aggregates, current);
                if (source.Next()) queue.Enqueue(r, r);
            }
            if (keys.Count > 0) yield return (keys, aggregates);
        }
        finally
        {
            foreach (var source in sources) source?.Dispose();
        }
    }

    /// <summary>One run being merged: its reader, its current batch and row.</summary>
    private sealed class Source(string path) : IDisposable
    {
        private readonly ArrowStreamReader _reader = new(File.OpenRead(path));
        private RecordBatch? _batch;
        private BinaryArray? _keys;
        private BinaryArray? _states;
        private int _row = -1;

        public ReadOnlySpan<byte> Key => _keys!.GetBytes(_row);

        public ReadOnlySpan<byte> State => _states!.GetBytes(_row);

        /// <summary>Moves to the next row; false at the end of the run.</summary>
        public bool Next()
        {
            if (_batch is not null && ++_row < _batch.Length) return true;
            do
            {
                _batch?.Dispose();
                _batch = _reader.ReadNextRecordBatch();
            }
            while (_batch is { Length: 0 });
            if (_batch is null) return false;
            _keys = (BinaryArray)_batch.Column(0);
            _states = (BinaryArray)_batch.Column(1);
            _row = 0;
            return true;
        }

        public void Dispose()
        {
            _batch?.Dispose();
            _reader.Dispose();
        }
    }

    /// <summary>Writes rows, already in key order, to a new run in batches of <see cref="BatchRows"/>.</summary>
    private sealed class Writer : IDisposable
    {
        private readonly StateMemory _memory;
        private readonly string _path;
        private readonly FileStream _file;
        private readonly ArrowStreamWriter _writer;
        private Utf8Builder _keys = new(BatchRows, BatchRows * 16);
        private Utf8Builder _states = new(BatchRows, BatchRows * 16);
        private int _rows;
        private bool _finished;

        public Writer(StateMemory memory)
        {
            _memory = memory;
            _path = memory.NewRun();
            _file = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _writer = new ArrowStreamWriter(_file, RunSchema, leaveOpen: true);
        }

        public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> state)
        {
            _keys.Append(key);
            _states.Append(state);
            if (++_rows == BatchRows) Flush();
        }

        private void Flush()
        {
            if (_rows == 0) return;
            using var batch = new RecordBatch(RunSchema, [_keys.Build(binary: true), _states.Build(binary: true)], _rows);
            _writer.WriteRecordBatch(batch);
            _keys = new Utf8Builder(BatchRows, BatchRows * 16);
            _states = new Utf8Builder(BatchRows, BatchRows * 16);
            _rows = 0;
        }

        public string Finish()
        {
            Flush();
            _writer.WriteEnd();
            _file.Flush();
            _memory.Written(_file.Length);
            _finished = true;
            return _path;
        }

        public void Dispose()
        {
            _writer.Dispose();
            _file.Dispose();
            // A run cut short (an error while writing it) is nobody's: it goes now.
            if (!_finished) _memory.Delete(_path);
        }
    }
}
