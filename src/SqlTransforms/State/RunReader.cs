using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// A sorted run being read a row at a time, as <see cref="RunWriter"/> wrote it: an Arrow IPC stream whose first column
/// is the key, in the byte order of the keys. Holds one batch; each run type takes its other columns from each batch
/// (<see cref="Columns"/>) and reads them at <see cref="Index"/>.
/// </summary>
internal abstract class RunReader : IDisposable
{
    /// <summary>Most runs a merge reads at once; past it the oldest are merged into one run first.</summary>
    public const int MaxMergeWidth = 64;

    private readonly ArrowStreamReader _reader;
    private RecordBatch? _batch;
    private BinaryArray? _keys;

    protected RunReader(string path) => _reader = new ArrowStreamReader(File.OpenRead(path));

    /// <summary>The current row's place in its batch.</summary>
    protected int Index { get; private set; } = -1;

    public ReadOnlySpan<byte> Key => _keys!.GetBytes(Index);

    /// <summary>Moves to the next row; false at the end of the run.</summary>
    public bool Next()
    {
        if (_batch is not null && ++Index < _batch.Length) return true;
        do
        {
            _batch?.Dispose();
            _batch = _reader.ReadNextRecordBatch();
        }
        while (_batch is { Length: 0 });
        if (_batch is null) return false;
        _keys = (BinaryArray)_batch.Column(0);
        Columns(_batch);
        Index = 0;
        return true;
    }

    /// <summary>Takes the run type's columns of a new batch (read until the next).</summary>
    protected abstract void Columns(RecordBatch batch);

    /// <summary>
    /// The order a merge takes the rows of <paramref name="readers"/> in: by key, a key's rows by reader (the first in
    /// the array first). Moves each reader to its first row and answers a queue of those with rows; a reader dequeued
    /// goes back once moved to its next row.
    /// </summary>
    public static PriorityQueue<int, int> ByKey(RunReader[] readers)
    {
        var queue = new PriorityQueue<int, int>(Comparer<int>.Create((a, b) =>
        {
            int c = readers[a].Key.SequenceCompareTo(readers[b].Key);
            return c != 0 ? c : a.CompareTo(b);
        }));
        for (int r = 0; r < readers.Length; r++)
            if (readers[r].Next()) queue.Enqueue(r, r);
        return queue;
    }

    public void Dispose()
    {
        _batch?.Dispose();
        _reader.Dispose();
    }
}
