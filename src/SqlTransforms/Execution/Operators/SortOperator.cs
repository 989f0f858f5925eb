using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>ORDER BY over bounded input: collects every batch, then emits them sorted (stable; NULLs last unless NULLS FIRST).</summary>
internal sealed class SortOperator(IReadOnlyList<SortKey> keys, IReadOnlyList<SqlType> types, Schema schema) : Operator
{
    private readonly List<RecordBatch> _batches = [];

    public override void Push(RecordBatch batch) => _batches.Add(batch);

    public override void Finish()
    {
        var all = Concatenate.Batches(_batches, schema, types);
        if (all is not null)
        {
            var values = keys.Select(k => Enumerable.Range(0, all.Length).Select(i => ValueArrays.Get(all.Column(k.Column), types[k.Column], i)).ToArray()).ToArray();
            var orders = keys.Select(k => ValueOrder.For(types[k.Column])).ToArray();
            var indices = Enumerable.Range(0, all.Length).ToArray();
            var sorted = indices.OrderBy(i => i, Comparer<int>.Create((a, b) =>
            {
                for (int k = 0; k < keys.Count; k++)
                {
                    var x = values[k][a];
                    var y = values[k][b];
                    int c;
                    if (x is null || y is null) c = x is null && y is null ? 0 : (x is null) == keys[k].NullsFirst ? -1 : 1;
                    else c = orders[k](x, y) * (keys[k].Descending ? -1 : 1);
                    if (c != 0) return c;
                }
                return 0;
            })).ToArray();
            var columns = new IArrowArray[all.ColumnCount];
            for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(all.Column(c), sorted);
            Emit(new RecordBatch(schema, columns, sorted.Length));
        }
        base.Finish();
    }
}
