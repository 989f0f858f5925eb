using Apache.Arrow;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// One output row per element of the row's lists (zipped: as many as the longest, shorter ones padded with NULL;
/// a NULL or empty list gives no rows), the other columns repeated; each list column is replaced by its elements.
/// </summary>
internal sealed class UnnestOperator(IReadOnlyList<int> listColumns, Schema schema) : Operator
{
    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        var lists = listColumns.Select(c => (ListArray)batch.Column(c)).ToArray();
        var counts = new int[n];
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            int longest = 0;
            foreach (var l in lists)
                if (l.IsValid(i)) longest = Math.Max(longest, l.GetValueLength(i));
            counts[i] = longest;
            total += longest;
        }
        if (total > int.MaxValue / 2) throw new InvalidOperationException("UNNEST would make more than a billion rows of one batch");
        var parents = new int[total];
        int k = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < counts[i]; j++) parents[k++] = i;
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++)
        {
            int which = IndexOf(c);
            if (which < 0) { columns[c] = Gather.Take(batch.Column(c), parents); continue; }
            var list = lists[which];
            var elements = new int[total];
            k = 0;
            for (int i = 0; i < n; i++)
            {
                int length = list.IsValid(i) ? list.GetValueLength(i) : 0;
                int start = list.IsValid(i) ? list.ValueOffsets[i] : 0;
                for (int j = 0; j < counts[i]; j++) elements[k++] = j < length ? start + j : -1;
            }
            columns[c] = Gather.Take(list.Values, elements);
        }
        Emit(new RecordBatch(schema, columns, (int)total));
    }

    private int IndexOf(int column)
    {
        for (int i = 0; i < listColumns.Count; i++) if (listColumns[i] == column) return i;
        return -1;
    }
}
