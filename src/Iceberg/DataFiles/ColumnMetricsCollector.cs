using Apache.Arrow;
using DataPlane.Iceberg.Types;
using IcebergSchema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Folds the metrics of every primitive column of a schema (nested ones included) from the Arrow batches written
/// to one data file. Leaves are listed in depth-first order, which is also the order of Parquet's leaf columns.
/// </summary>
internal sealed class ColumnMetricsCollector
{
    private readonly Node[] _columns;

    public ColumnMetricsCollector(IcebergSchema schema, int truncateLength)
    {
        var leaves = new List<LeafMetrics>();
        _columns = schema.Columns.Select(c => Build(c, repeated: false, truncateLength, leaves)).ToArray();
        Leaves = leaves;
    }

    /// <summary>Every primitive column in Parquet leaf order.</summary>
    public IReadOnlyList<LeafMetrics> Leaves { get; }

    public void Add(RecordBatch batch)
    {
        for (int i = 0; i < _columns.Length; i++)
            _columns[i].Add(batch.Column(i), ReadOnlySpan<bool>.Empty);
    }

    public void Reset()
    {
        foreach (var leaf in Leaves)
            leaf.Reset();
    }

    private static Node Build(NestedField field, bool repeated, int truncateLength, List<LeafMetrics> leaves)
    {
        switch (field.Type)
        {
            case StructType s:
                return new StructNode(s.Fields.Select(f => Build(f, repeated, truncateLength, leaves)).ToArray());
            case ListType l:
                return new ListNode(Build(l.ElementField, repeated: true, truncateLength, leaves), null);
            case MapType m:
                var key = Build(m.KeyField, repeated: true, truncateLength, leaves);
                var value = Build(m.ValueField, repeated: true, truncateLength, leaves);
                return new ListNode(key, value);
            default:
                var leaf = LeafMetrics.For(field, repeated, truncateLength);
                leaves.Add(leaf);
                return new LeafNode(leaf);
        }
    }

    private abstract class Node
    {
        public abstract void Add(IArrowArray array, ReadOnlySpan<bool> ancestorNull);
    }

    private sealed class LeafNode(LeafMetrics leaf) : Node
    {
        public override void Add(IArrowArray array, ReadOnlySpan<bool> ancestorNull) => leaf.Add(array, ancestorNull);
    }

    private sealed class StructNode(Node[] children) : Node
    {
        public override void Add(IArrowArray array, ReadOnlySpan<bool> ancestorNull)
        {
            var s = (StructArray)array;
            if (s.NullCount == 0 && ancestorNull.IsEmpty)
            {
                for (int c = 0; c < children.Length; c++)
                    children[c].Add(Child(s, c), ReadOnlySpan<bool>.Empty);
                return;
            }
            // A field of a null struct is null whatever its own array holds.
            using var mask = new NullMask(s, ancestorNull);
            for (int c = 0; c < children.Length; c++)
                children[c].Add(Child(s, c), mask.Span);
        }

        private static IArrowArray Child(StructArray s, int index)
        {
            var child = s.Fields[index];
            return s.Offset == 0 && child.Length == s.Length ? child : ArrowArrayFactory.Slice(child, s.Offset, s.Length);
        }
    }

    /// <summary>A list (element) or a map (key and value): its leaves see the flattened elements of the batch.</summary>
    private sealed class ListNode(Node first, Node? second) : Node
    {
        public override void Add(IArrowArray array, ReadOnlySpan<bool> ancestorNull)
        {
            var list = (ListArray)array;
            var offsets = list.ValueOffsets;
            int start = offsets[0], end = offsets[list.Length];
            if (list is MapArray map)
            {
                first.Add(Slice(map.Keys, start, end), ReadOnlySpan<bool>.Empty);
                second!.Add(Slice(map.Values, start, end), ReadOnlySpan<bool>.Empty);
            }
            else
            {
                first.Add(Slice(list.Values, start, end), ReadOnlySpan<bool>.Empty);
            }
        }

        private static IArrowArray Slice(IArrowArray values, int start, int end) =>
            start == 0 && end == values.Length ? values : ArrowArrayFactory.Slice(values, start, end - start);
    }
}
