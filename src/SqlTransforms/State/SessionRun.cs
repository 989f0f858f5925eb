using Apache.Arrow;
using Apache.Arrow.Ipc;
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

    /// <summary>Writes rows, already in key and start order, to a new run in batches of <see cref="GroupRun.BatchRows"/>.</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly StateMemory _memory;
        private readonly string _path;
        private readonly FileStream _file;
        private readonly ArrowStreamWriter _writer;
        private Utf8Builder _keys = new(GroupRun.BatchRows, GroupRun.BatchRows * 16);
        private Utf8Builder _states = new(GroupRun.BatchRows, GroupRun.BatchRows * 16);
        private readonly long[] _starts = new long[GroupRun.BatchRows];
        private readonly long[] _ends = new long[GroupRun.BatchRows];
        private int _rows;
        private long _total;
        private long _minEnd = long.MaxValue;
        private bool _finished;

        public Writer(StateMemory memory)
        {
            _memory = memory;
            _path = memory.NewRun();
            _file = new FileStream(_path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _writer = new ArrowStreamWriter(_file, RunSchema, leaveOpen: true);
        }

        public long Rows => _total + _rows;

        public void Add(ReadOnlySpan<byte> key, long start, long end, ReadOnlySpan<byte> state)
        {
            _keys.Append(key);
            _states.Append(state);
            _starts[_rows] = start;
            _ends[_rows] = end;
            _minEnd = Math.Min(_minEnd, end);
            if (++_rows == GroupRun.BatchRows) Flush();
        }

        private void Flush()
        {
            if (_rows == 0) return;
            var starts = new Int64Array.Builder().Reserve(_rows).Append(_starts.AsSpan(0, _rows)).Build();
            var ends = new Int64Array.Builder().Reserve(_rows).Append(_ends.AsSpan(0, _rows)).Build();
            using var batch = new RecordBatch(RunSchema, [_keys.Build(binary: true), starts, ends, _states.Build(binary: true)], _rows);
            _writer.WriteRecordBatch(batch);
            _keys = new Utf8Builder(GroupRun.BatchRows, GroupRun.BatchRows * 16);
            _states = new Utf8Builder(GroupRun.BatchRows, GroupRun.BatchRows * 16);
            _total += _rows;
            _rows = 0;
        }

        /// <summary>The run written; with no rows, none (its file is deleted).</summary>
        public SessionRun? Finish()
        {
            Flush();
            _writer.WriteEnd();
            _file.Flush();
            _finished = true;
            if (_total == 0)
            {
                Dispose();
                _memory.Delete(_path);
                return null;
            }
            _memory.Written(_file.Length);
            return new SessionRun(_path, _total, _minEnd);
        }

        public void Dispose()
        {
            _writer.Dispose();
            _file.Dispose();
            // A run cut short (an error while writing it) is nobody's: it goes now.
            if (!_finished) _memory.Delete(_path);
            _finished = true;
        }
    }

    /// <summary>One run being read: its current batch and row.</summary>
    internal sealed class Reader(string path) : IDisposable
    {
        private readonly ArrowStreamReader _reader = new(File.OpenRead(path));
        private RecordBatch? _batch;
        private BinaryArray? _keys;
        private Int64Array? _starts;
        private Int64Array? _ends;
        private BinaryArray? _states;
        private int _row = -1;

        public ReadOnlySpan<byte> Key => _keys!.GetBytes(_row);
        public long Start => _starts!.GetValue(_row)!.Value;
        public long End => _ends!.GetValue(_row)!.Value;
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
            _starts = (Int64Array)_batch.Column(1);
            _ends = (Int64Array)_batch.Column(2);
            _states = (BinaryArray)_batch.Column(3);
            _row = 0;
            return true;
        }

        public void Dispose()
        {
            _batch?.Dispose();
            _reader.Dispose();
        }
    }
}
