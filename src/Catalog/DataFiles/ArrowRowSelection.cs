using Apache.Arrow;
using Apache.Arrow.Memory;

namespace DataPlane.Catalog.DataFiles;

/// <summary>Keeps the selected rows of a batch, copied into new buffers (runs of kept rows are concatenated).</summary>
internal static class ArrowRowSelection
{
    /// <summary>The kept rows as a new batch that owns its memory; null when none is kept.</summary>
    public static RecordBatch? Keep(RecordBatch batch, ReadOnlySpan<bool> keep)
    {
        var runs = new List<(int Start, int Length)>();
        int kept = 0;
        for (int i = 0; i < keep.Length;)
        {
            if (!keep[i]) { i++; continue; }
            int start = i;
            while (i < keep.Length && keep[i]) i++;
            runs.Add((start, i - start));
            kept += i - start;
        }
        if (kept == 0) return null;
        // Always copy, even a single run: the result must outlive the batch it came from.
        if (runs.Count == 1) runs.Add((0, 0));
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++)
        {
            var column = batch.Column(c);
            var slices = runs.Select(r => ArrowArrayFactory.Slice(column, r.Start, r.Length)).ToList();
            columns[c] = ArrowArrayConcatenator.Concatenate(slices, MemoryAllocator.Default.Value);
        }
        return new RecordBatch(batch.Schema, columns, kept);
    }
}
