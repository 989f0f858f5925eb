using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.SqlTransforms.Execution;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// A sorted run of session fragments on local disk: an Arrow IPC stream of (key, start, end, state) rows in the byte
/// order of the keys, a key's fragments by start, each fragment a session of some of the key's records (the state from
/// <see cref="GroupStateCodec"/>). A key may have fragments in several runs, and in memory: those whose [start, end)
/// overlap are one session, folded when the runs are merged.
/// </summary>
internal sealed record SessionRun(string Path, long Rows, long MinEnd)
{
    private static readonly Schema RunSchema = new([new Field("key", BinaryType.Default, false), new Field("start", Int64Type.Default, false),
        new Field("end", Int64Type.Default, false), new Field("state", BinaryType.Default, false)], null);

    /// <summary>Writes rows, already in key and start order, to a new run.</summary>
    internal sealed class Writer(StateMemory memory) : RunWriter(memory, RunSchema)
    {
        private Utf8Builder _states = Column(16);
        private readonly long[] _starts = new long[BatchRows];
        private readonly long[] _ends = new long[BatchRows];
        private long _minEnd = long.MaxValue;

        public void Add(ReadOnlySpan<byte> key, long start, long end, ReadOnlySpan<byte> state)
        {
            _states.Append(state);
            _starts[Pending] = start;
            _ends[Pending] = end;
            _minEnd = Math.Min(_minEnd, end);
            EndRow(key);
        }

        protected override IArrowArray[] Columns(IArrowArray keys, int rows)
        {
            var starts = new Int64Array.Builder().Reserve(rows).Append(_starts.AsSpan(0, rows)).Build();
            var ends = new Int64Array.Builder().Reserve(rows).Append(_ends.AsSpan(0, rows)).Build();
            return [keys, starts, ends, Take(ref _states, 16)];
        }

        /// <summary>The run written; with no rows, none (its file is deleted).</summary>
        public SessionRun? Finish()
        {
            if (Rows == 0)
            {
                Dispose();
                return null;
            }
            return new SessionRun(End(), Rows, _minEnd);
        }
    }

    /// <summary>One run being read: its current batch and row.</summary>
    internal sealed class Reader(string path) : RunReader(path)
    {
        private Int64Array? _starts;
        private Int64Array? _ends;
        private BinaryArray? _states;

        public long Start => _starts!.GetValue(Index)!.Value;
        public long End => _ends!.GetValue(Index)!.Value;
        public ReadOnlySpan<byte> State => _states!.GetBytes(Index);

        protected override void Columns(RecordBatch batch)
        {
            _starts = (Int64Array)batch.Column(1);
            _ends = (Int64Array)batch.Column(2);
            _states = (BinaryArray)batch.Column(3);
        }
    }
}
