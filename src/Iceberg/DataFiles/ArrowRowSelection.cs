using System.Buffers;
using Apache.Arrow;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>Keeps the selected rows of a batch, copied into new buffers.</summary>
internal static class ArrowRowSelection
{
    /// <summary>The kept rows as a new batch that owns its memory; null when none is kept.</summary>
    public static RecordBatch? Keep(RecordBatch batch, ReadOnlySpan<bool> keep)
    {
        var rows = ArrayPool<int>.Shared.Rent(keep.Length);
        try
        {
            int kept = 0;
            for (int i = 0; i < keep.Length; i++)
                if (keep[i]) rows[kept++] = i;
            // Always a copy, even of every row: the result must outlive the batch it came from.
            return kept == 0 ? null : ArrowTake.Take(batch, rows.AsSpan(0, kept));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rows);
        }
    }
}
