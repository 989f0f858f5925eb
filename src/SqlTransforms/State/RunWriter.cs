using Apache.Arrow;
using Apache.Arrow.Ipc;
using DataPlane.SqlTransforms.Execution;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// A sorted run being written: an Arrow IPC stream in a new file of <see cref="StateMemory"/>'s folder, its rows added
/// already in key order and written in batches of <see cref="BatchRows"/>. The key is the first column; each run type
/// adds its others and builds them a batch at a time (<see cref="Columns"/>). A finished run is counted as spilled;
/// one not finished (an error while writing it) is deleted when disposed.
/// </summary>
internal abstract class RunWriter : IDisposable
{
    /// <summary>Rows per Arrow batch of a run: what a merge holds per run, so at most <see cref="RunReader.MaxMergeWidth"/>
    /// times this many rows whatever the state (a bound on what a window's close or a checkpoint holds beside the budget).</summary>
    public const int BatchRows = 1024;

    private readonly StateMemory _memory;
    private readonly Schema _schema;
    private readonly FileStream _file;
    private readonly ArrowStreamWriter _writer;
    private Utf8Builder _keys = Column(16);
    /// <summary>Finished, or deleted: the file is no longer this writer's to delete.</summary>
    private bool _closed;

    protected RunWriter(StateMemory memory, Schema schema)
    {
        _memory = memory;
        _schema = schema;
        Path = memory.NewRun();
        _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        _writer = new ArrowStreamWriter(_file, schema, leaveOpen: true);
    }

    public string Path { get; }

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Rows added since the last batch was written: the place in its batch of the row being added.</summary>
    protected int Pending { get; private set; }

    /// <summary>Ends a row, its other columns added, with its key; a full batch is written.</summary>
    protected void EndRow(ReadOnlySpan<byte> key)
    {
        _keys.Append(key);
        Rows++;
        if (++Pending == BatchRows) Flush();
    }

    /// <summary>The columns of a batch of the <paramref name="rows"/> rows added since the last: <paramref name="keys"/>,
    /// then the run type's, whose builders start anew for the next batch.</summary>
    protected abstract IArrowArray[] Columns(IArrowArray keys, int rows);

    /// <summary>A builder of a binary column for a batch, sized for <paramref name="bytesPerRow"/> a row.</summary>
    protected static Utf8Builder Column(int bytesPerRow) => new(BatchRows, BatchRows * bytesPerRow);

    /// <summary>The binary column built so far; its builder starts anew.</summary>
    protected static IArrowArray Take(ref Utf8Builder column, int bytesPerRow)
    {
        var built = column.Build(binary: true);
        column = Column(bytesPerRow);
        return built;
    }

    private void Flush()
    {
        if (Pending == 0) return;
        using var batch = new RecordBatch(_schema, Columns(Take(ref _keys, 16), Pending), Pending);
        _writer.WriteRecordBatch(batch);
        Pending = 0;
    }

    /// <summary>Ends the run and counts it as spilled; answers its path.</summary>
    protected string End()
    {
        Flush();
        _writer.WriteEnd();
        _file.Flush();
        _memory.Written(_file.Length);
        _closed = true;
        return Path;
    }

    public void Dispose()
    {
        _writer.Dispose();
        _file.Dispose();
        if (_closed) return;
        // A run cut short (an error while writing it) is nobody's: it goes now.
        _closed = true;
        _memory.Delete(Path);
    }
}
