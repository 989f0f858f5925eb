using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// Rows a join keeps, spilled to local disk or written to a snapshot: an Arrow IPC stream of the side's columns followed
/// by three of the join's own (<see cref="Layout"/>): the encoded join key (NULL for a row that matches nothing), whether
/// the row has matched, and whether its pairs with the other rows of its window so marked were already emitted (rows
/// kept in memory before the window spilled). An interval join's rows have three more before those
/// (<see cref="Arrivals"/>): the number of the batch the row came in, its side's watermark then, and the number of the
/// first batch that arrived while it was on disk (<see cref="long.MaxValue"/> for a row that never was). Unlike <see cref="GroupRun"/> these are not merged by key: a window's runs
/// are read whole, a batch at a time, when it closes.
/// </summary>
internal static class RowRun
{
    /// <summary>Rows per batch written: what reading a run holds at once.</summary>
    public const int BatchRows = 1024;

    /// <summary>The layout of the rows of a side whose columns are <paramref name="rows"/>.</summary>
    public static Schema Layout(Schema rows) => new([.. rows.FieldsList,
        new Field("key", BinaryType.Default, true), new Field("matched", BooleanType.Default, false), new Field("pre", BooleanType.Default, false)], null);

    /// <summary>The layout of an interval join's rows: <see cref="Layout"/> with the rows' arrivals before the key.</summary>
    public static Schema TimedLayout(Schema rows) => new([.. rows.FieldsList,
        new Field("seq", Int64Type.Default, false), new Field("since", Int64Type.Default, false), new Field("spilled", Int64Type.Default, false),
        new Field("key", BinaryType.Default, true), new Field("matched", BooleanType.Default, false), new Field("pre", BooleanType.Default, false)], null);

    /// <summary>A batch of <paramref name="layout"/> from rows, their keys and flags.</summary>
    public static RecordBatch Batch(Schema layout, IArrowArray[] rows, IArrowArray keys, IArrowArray matched, IArrowArray pre, int length) =>
        new(layout, [.. rows, keys, matched, pre], length);

    /// <summary>A batch of a <see cref="TimedLayout"/> from rows, their arrivals (batch, watermark, spilled), keys and flags.</summary>
    public static RecordBatch Batch(Schema layout, IArrowArray[] rows, IArrowArray[] arrivals, IArrowArray keys, IArrowArray matched, IArrowArray pre, int length) =>
        new(layout, [.. rows, .. arrivals, keys, matched, pre], length);

    /// <summary>The arrivals of a batch of a <see cref="TimedLayout"/>: each row's batch number, its side's watermark then, and the first batch number that did not see it in memory.</summary>
    public static (Int64Array Seq, Int64Array Since, Int64Array Spilled) Arrivals(RecordBatch batch) =>
        ((Int64Array)batch.Column(batch.ColumnCount - 6), (Int64Array)batch.Column(batch.ColumnCount - 5), (Int64Array)batch.Column(batch.ColumnCount - 4));

    /// <summary>The side's columns of a batch of the layout.</summary>
    public static RecordBatch Rows(Schema rows, RecordBatch batch)
    {
        var columns = new IArrowArray[rows.FieldsList.Count];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        return new RecordBatch(rows, columns, batch.Length);
    }

    public static BinaryArray Keys(RecordBatch batch) => (BinaryArray)batch.Column(batch.ColumnCount - 3);

    public static BooleanArray Matched(RecordBatch batch) => (BooleanArray)batch.Column(batch.ColumnCount - 2);

    public static BooleanArray Pre(RecordBatch batch) => (BooleanArray)batch.Column(batch.ColumnCount - 1);

    /// <summary>Writes the batches (of <paramref name="layout"/>) as a new run of the execution's spill folder; answers its path.</summary>
    public static string Write(StateMemory memory, Schema layout, IEnumerable<RecordBatch> batches)
    {
        string path = memory.NewRun();
        bool finished = false;
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            using (var writer = new ArrowStreamWriter(file, layout, leaveOpen: true))
            {
                foreach (var batch in batches) writer.WriteRecordBatch(batch);
                writer.WriteEnd();
            }
            file.Flush();
            memory.Written(file.Length);
            finished = true;
            return path;
        }
        finally
        {
            // A run cut short (an error while writing it) is nobody's: it goes now.
            if (!finished) memory.Delete(path);
        }
    }

    /// <summary>The batches of a run, one at a time.</summary>
    public static IEnumerable<RecordBatch> Read(string path)
    {
        using var reader = new ArrowStreamReader(File.OpenRead(path));
        while (reader.ReadNextRecordBatch() is { } batch) yield return batch;
    }

    /// <summary>Writes a batch of rows into a snapshot: its length, then an Arrow IPC stream of it.</summary>
    public static void Save(BinaryWriter writer, RecordBatch batch)
    {
        using var ipc = new MemoryStream();
        using (var arrow = new ArrowStreamWriter(ipc, batch.Schema, leaveOpen: true))
        {
            arrow.WriteRecordBatch(batch);
            arrow.WriteEnd();
        }
        writer.Write((int)ipc.Length);
        writer.Write(ipc.GetBuffer(), 0, (int)ipc.Length);
    }

    /// <summary>Reads a batch <see cref="Save"/> wrote, checking it has <paramref name="layout"/>'s columns (or, for a
    /// <see cref="TimedLayout"/>, the <see cref="Layout"/>'s an interval join's snapshot had before).</summary>
    public static RecordBatch Load(BinaryReader reader, Schema layout)
    {
        int length = reader.ReadInt32();
        if (length < 0) throw new InvalidDataException("the state of a join holds a batch of negative length");
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        var batch = new ArrowStreamReader(new ReadOnlyMemory<byte>(bytes)).ReadNextRecordBatch()
            ?? throw new InvalidDataException("the state of a join is cut short");
        if (batch.ColumnCount == layout.FieldsList.Count - 3 && layout.FieldsList[^4].Name == "spilled")
        {
            // an interval join's rows from before they had arrivals (all kept in memory): as come before any to come
            int rows = batch.ColumnCount - 3;
            var upgraded = new IArrowArray[layout.FieldsList.Count];
            for (int c = 0; c < rows; c++) upgraded[c] = batch.Column(c);
            upgraded[rows] = Constant(0, batch.Length);
            upgraded[rows + 1] = Constant(long.MinValue, batch.Length);
            upgraded[rows + 2] = Constant(long.MaxValue, batch.Length);
            for (int c = rows; c < batch.ColumnCount; c++) upgraded[c + 3] = batch.Column(c);
            return new RecordBatch(layout, upgraded, batch.Length);
        }
        if (batch.ColumnCount != layout.FieldsList.Count)
            throw new InvalidDataException($"the state of a join has rows of {batch.ColumnCount} columns where the join keeps {layout.FieldsList.Count}");
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        return new RecordBatch(layout, columns, batch.Length);
    }

    private static Int64Array Constant(long value, int length)
    {
        var builder = new Int64Array.Builder();
        for (int i = 0; i < length; i++) builder.Append(value);
        return builder.Build();
    }

    /// <summary>The bytes of a batch's buffers (of its columns and their children).</summary>
    public static long Bytes(RecordBatch batch)
    {
        long bytes = 0;
        for (int c = 0; c < batch.ColumnCount; c++) bytes += Bytes(batch.Column(c).Data);
        return bytes;
    }

    private static long Bytes(ArrayData data)
    {
        long bytes = 0;
        if (data.Buffers is not null)
            foreach (var buffer in data.Buffers) bytes += buffer.Length;
        if (data.Children is not null)
            foreach (var child in data.Children) bytes += Bytes(child);
        if (data.Dictionary is not null) bytes += Bytes(data.Dictionary);
        return bytes;
    }
}
