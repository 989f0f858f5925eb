using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>Several batches as one (for operators that need all their bounded input at once).</summary>
internal static class Concatenate
{
    public static RecordBatch? Batches(IReadOnlyList<RecordBatch> batches, Schema schema, IReadOnlyList<SqlType> types)
    {
        if (batches.Count == 0) return null;
        if (batches.Count == 1) return batches[0];
        int total = batches.Sum(b => b.Length);
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (int c = 0; c < columns.Length; c++)
        {
            var values = new List<object?>(total);
            foreach (var b in batches)
                for (int i = 0; i < b.Length; i++) values.Add(ValueArrays.Get(b.Column(c), types[c], i));
            columns[c] = ValueArrays.FromValues(types[c], values);
        }
        return new RecordBatch(schema, columns, total);
    }
}
