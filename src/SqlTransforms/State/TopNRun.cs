using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Operators;
using DataPlane.SqlTransforms.Planning;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// Sorted runs of a top-N's kept rows on local disk: an Arrow IPC stream of (key, order, sequence, row) rows sorted by
/// partition key bytes, then ORDER BY key bytes, then arrival sequence, which is the order the operator numbers a
/// partition's rows in. Kept rows merge: the top N of a union is the top N of its parts' top Ns (ties by arrival), so
/// runs are merged a row at a time (<see cref="Cursor"/>), holding a batch per run whatever they hold in all.
/// </summary>
internal static class TopNRun
{
    private static readonly Schema RunSchema = new([new Field("key", BinaryType.Default, false), new Field("order", BinaryType.Default, false),
        new Field("sequence", Int64Type.Default, false), new Field("row", BinaryType.Default, false)], null);

    /// <summary>
    /// The rows of <paramref name="runs"/> merged in order. More than <see cref="RunReader.MaxMergeWidth"/> runs are first merged
    /// into fewer, keeping of each key the rows <paramref name="limit"/> keeps (the list is changed to name them, and the
    /// merged runs are deleted, but those of <paramref name="kept"/>: the caller's, read again later).
    /// </summary>
    public static Cursor Merge(StateMemory memory, List<string> runs, RankLimit? limit, IReadOnlySet<string>? kept = null)
    {
        while (runs.Count > RunReader.MaxMergeWidth)
        {
            var first = runs.GetRange(0, RunReader.MaxMergeWidth);
            runs.RemoveRange(0, first.Count);
            using (var run = new Writer(memory))
            {
                using (var cursor = new Cursor(first))
                {
                    var ranks = new RankCounter();
                    while (cursor.Next())
                    {
                        if (!cursor.SameKey) ranks = default;
                        ranks.Next(cursor.SameOrder);
                        if (ranks.Within(limit)) run.Add(cursor.Key, cursor.Order, cursor.Sequence, cursor.Row);
                    }
                }
                runs.Add(run.Finish());
            }
            foreach (var merged in first)
                if (kept is null || !kept.Contains(merged)) memory.Delete(merged);
        }
        return new Cursor(runs);
    }

    /// <summary>
    /// Runs merged a row at a time in (key, order, sequence) order. The current row's spans are valid until the next
    /// <see cref="Next"/>; <see cref="SameKey"/> and <see cref="SameOrder"/> compare it with the row before.
    /// </summary>
    public sealed class Cursor : IDisposable
    {
        private readonly Source[] _sources;
        private readonly PriorityQueue<int, int> _queue;
        private byte[] _previousKey = new byte[64];
        private byte[] _previousOrder = new byte[64];
        private int _previousKeyLength = -1;
        private int _previousOrderLength;
        private int _current = -1;

        public Cursor(IReadOnlyList<string> runs)
        {
            _sources = new Source[runs.Count];
            try
            {
                for (int r = 0; r < _sources.Length; r++) _sources[r] = new Source(runs[r]);
            }
            catch
            {
                Dispose();
                throw;
            }
            _queue = new PriorityQueue<int, int>(Comparer<int>.Create(Compare));
            for (int r = 0; r < _sources.Length; r++)
                if (_sources[r].Next()) _queue.Enqueue(r, r);
        }

        public ReadOnlySpan<byte> Key => _sources[_current].Key;

        public ReadOnlySpan<byte> Order => _sources[_current].Order;

        public long Sequence => _sources[_current].Sequence;

        public ReadOnlySpan<byte> Row => _sources[_current].Row;

        /// <summary>Whether the current row has the key of the row before.</summary>
        public bool SameKey { get; private set; }

        /// <summary>Whether the current row has the key and the ORDER BY key of the row before (a tie).</summary>
        public bool SameOrder { get; private set; }

        /// <summary>Moves to the next row; false after the last.</summary>
        public bool Next()
        {
            if (_current >= 0)
            {
                var source = _sources[_current];
                Remember(source.Key, ref _previousKey, out _previousKeyLength);
                Remember(source.Order, ref _previousOrder, out _previousOrderLength);
                if (source.Next()) _queue.Enqueue(_current, _current);
            }
            if (_queue.Count == 0)
            {
                _current = -1;
                return false;
            }
            _current = _queue.Dequeue();
            SameKey = _previousKeyLength >= 0 && Key.SequenceEqual(_previousKey.AsSpan(0, _previousKeyLength));
            SameOrder = SameKey && Order.SequenceEqual(_previousOrder.AsSpan(0, _previousOrderLength));
            return true;
        }

        private static void Remember(ReadOnlySpan<byte> value, ref byte[] buffer, out int length)
        {
            if (value.Length > buffer.Length) buffer = new byte[Math.Max(value.Length, buffer.Length * 2)];
            value.CopyTo(buffer);
            length = value.Length;
        }

        private int Compare(int a, int b)
        {
            var x = _sources[a];
            var y = _sources[b];
            int c = x.Key.SequenceCompareTo(y.Key);
            if (c == 0) c = x.Order.SequenceCompareTo(y.Order);
            return c != 0 ? c : x.Sequence.CompareTo(y.Sequence);
        }

        public void Dispose()
        {
            foreach (var source in _sources) source?.Dispose();
        }
    }

    /// <summary>One run being merged: its reader, its current batch and row.</summary>
    private sealed class Source(string path) : RunReader(path)
    {
        private BinaryArray? _orders;
        private Int64Array? _sequences;
        private BinaryArray? _rows;

        public ReadOnlySpan<byte> Order => _orders!.GetBytes(Index);

        public long Sequence => _sequences!.Values[Index];

        public ReadOnlySpan<byte> Row => _rows!.GetBytes(Index);

        protected override void Columns(RecordBatch batch)
        {
            _orders = (BinaryArray)batch.Column(1);
            _sequences = (Int64Array)batch.Column(2);
            _rows = (BinaryArray)batch.Column(3);
        }
    }

    /// <summary>Writes rows, already in (key, order, sequence) order, to a new run.</summary>
    public sealed class Writer(StateMemory memory) : RunWriter(memory, RunSchema)
    {
        private Utf8Builder _orders = Column(16);
        private readonly long[] _sequences = new long[BatchRows];
        private Utf8Builder _rows = Column(32);

        public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> order, long sequence, ReadOnlySpan<byte> row)
        {
            _orders.Append(order);
            _sequences[Pending] = sequence;
            _rows.Append(row);
            EndRow(key);
        }

        protected override IArrowArray[] Columns(IArrowArray keys, int rows)
        {
            var sequences = new byte[rows * sizeof(long)];
            Buffer.BlockCopy(_sequences, 0, sequences, 0, sequences.Length);
            var sequenceArray = new Int64Array(new ArrayData(Int64Type.Default, rows, 0, 0, [ArrowBuffer.Empty, new ArrowBuffer(sequences)]));
            return [keys, Take(ref _orders, 16), sequenceArray, Take(ref _rows, 32)];
        }

        /// <summary>Ends the run; answers its path.</summary>
        public string Finish() => End();
    }
}
