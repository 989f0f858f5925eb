using System.Buffers;
using Apache.Arrow;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// The rows of one batch grouped by partition: partitions in order of first appearance, and each partition's row
/// numbers in batch order. Grouping is one pass over the rows plus a counting sort, however the partitions interleave
/// (bucket[N] puts neighbouring rows in different partitions), so a partitioned write costs one gather per partition.
/// </summary>
internal sealed class PartitionRows : IDisposable
{
    private readonly int[] _order;
    private readonly int[] _starts;

    private PartitionRows(List<PartitionData> partitions, int[] groupOf, int rows)
    {
        Partitions = partitions;
        _order = ArrayPool<int>.Shared.Rent(rows);
        _starts = ArrayPool<int>.Shared.Rent(partitions.Count + 1);
        var starts = _starts.AsSpan(0, partitions.Count + 1);
        starts.Clear();
        for (int row = 0; row < rows; row++) starts[groupOf[row] + 1]++;
        for (int g = 1; g < starts.Length; g++) starts[g] += starts[g - 1];
        // Filled through a cursor per partition that ends where the next partition starts; shifted back afterwards.
        for (int row = 0; row < rows; row++) _order[starts[groupOf[row]]++] = row;
        for (int g = starts.Length - 1; g > 0; g--) starts[g] = starts[g - 1];
        starts[0] = 0;
    }

    /// <summary>The distinct partition tuples of the batch, in order of their first row.</summary>
    public IReadOnlyList<PartitionData> Partitions { get; }

    /// <summary>Row numbers of partition <paramref name="partition"/>, ascending.</summary>
    public ArraySegment<int> RowsOf(int partition) => new(_order, _starts[partition], _starts[partition + 1] - _starts[partition]);

    public void Dispose()
    {
        ArrayPool<int>.Shared.Return(_order);
        ArrayPool<int>.Shared.Return(_starts);
    }

    /// <summary>Groups by partition keys computed a column at a time from the Arrow buffers (see <see cref="ColumnTransform"/>);
    /// a partition tuple is built once per distinct key, never per row.</summary>
    public static PartitionRows GroupColumnWise(PartitionSpec spec, IReadOnlyList<(int Column, PrimitiveType Type)> sources, RecordBatch batch)
    {
        int n = batch.Length;
        var keys = new ColumnKeys(sources.Count, n);
        var groupOf = ArrayPool<int>.Shared.Rent(n);
        try
        {
            for (int f = 0; f < sources.Count; f++)
                ColumnTransform.Apply(spec.Fields[f].Transform, sources[f].Type, batch.Column(sources[f].Column), keys.Keys(f), keys.Nulls(f));
            var firstRows = new List<int>();
            var table = new KeyTable(keys);
            for (int row = 0; row < n; row++)
            {
                // Clustered input (by time, say) mostly repeats the previous row's key: no lookup then.
                if (row > 0 && keys.Same(row, row - 1))
                {
                    groupOf[row] = groupOf[row - 1];
                    continue;
                }
                int group = table.GroupOf(row, firstRows.Count);
                if (group == firstRows.Count) firstRows.Add(row);
                groupOf[row] = group;
            }
            var partitions = new List<PartitionData>(firstRows.Count);
            foreach (int row in firstRows)
            {
                var values = new object?[sources.Count];
                for (int f = 0; f < values.Length; f++)
                    values[f] = keys.Nulls(f)[row] ? null : ColumnTransform.Value(spec.Fields[f].Transform, sources[f].Type, keys.Keys(f)[row]);
                partitions.Add(new PartitionData(values));
            }
            return new PartitionRows(partitions, groupOf, n);
        }
        finally
        {
            keys.Dispose();
            ArrayPool<int>.Shared.Return(groupOf);
        }
    }

    /// <summary>Groups by a partition tuple computed per row, for source columns <see cref="ColumnTransform"/> does not handle.</summary>
    public static PartitionRows GroupRowWise(int rows, Func<int, PartitionData> partitionOf)
    {
        var groupOf = ArrayPool<int>.Shared.Rent(rows);
        try
        {
            var groups = new Dictionary<PartitionData, int>();
            var partitions = new List<PartitionData>();
            PartitionData? previous = null;
            for (int row = 0; row < rows; row++)
            {
                var partition = partitionOf(row);
                if (previous is not null && partition.Equals(previous))
                {
                    groupOf[row] = groupOf[row - 1];
                    continue;
                }
                if (!groups.TryGetValue(partition, out int group))
                {
                    group = partitions.Count;
                    groups[partition] = group;
                    partitions.Add(partition);
                }
                groupOf[row] = group;
                previous = partition;
            }
            return new PartitionRows(partitions, groupOf, rows);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(groupOf);
        }
    }

    /// <summary>Every partition field's transformed key and null flag for every row, field after field.</summary>
    private readonly struct ColumnKeys : IDisposable
    {
        private readonly int _fields;
        private readonly int _rows;
        private readonly long[] _keys;
        private readonly bool[] _nulls;

        public ColumnKeys(int fields, int rows)
        {
            (_fields, _rows) = (fields, rows);
            _keys = ArrayPool<long>.Shared.Rent(fields * rows);
            _nulls = ArrayPool<bool>.Shared.Rent(fields * rows);
        }

        public Span<long> Keys(int field) => _keys.AsSpan(field * _rows, _rows);
        public Span<bool> Nulls(int field) => _nulls.AsSpan(field * _rows, _rows);

        public bool Same(int a, int b)
        {
            for (int f = 0, i = 0; f < _fields; f++, i += _rows)
                if (_nulls[i + a] != _nulls[i + b] || (!_nulls[i + a] && _keys[i + a] != _keys[i + b])) return false;
            return true;
        }

        public ulong Hash(int row)
        {
            ulong h = 0;
            for (int f = 0, i = 0; f < _fields; f++, i += _rows)
                h = (h ^ (_nulls[i + row] ? 0x5bd1e995UL : (ulong)_keys[i + row])) * 0x9E3779B97F4A7C15UL;
            return h;
        }

        public void Dispose()
        {
            ArrayPool<long>.Shared.Return(_keys);
            ArrayPool<bool>.Shared.Return(_nulls);
        }
    }

    /// <summary>Open addressing from a key to its group, by the group's first row; grows at half full.</summary>
    private sealed class KeyTable(ColumnKeys keys)
    {
        private int[] _slots = new int[16]; // first row + 1 of the group in the slot; 0 when empty
        private int[] _groups = new int[16];
        private int _count;

        /// <summary>The group of the row's key; <paramref name="next"/> (and the key is added) when the key is new.</summary>
        public int GroupOf(int row, int next)
        {
            int mask = _slots.Length - 1;
            for (int slot = Slot(row, mask); ; slot = (slot + 1) & mask)
            {
                if (_slots[slot] == 0)
                {
                    _slots[slot] = row + 1;
                    _groups[slot] = next;
                    if (++_count * 2 > _slots.Length) Grow();
                    return next;
                }
                if (keys.Same(_slots[slot] - 1, row)) return _groups[slot];
            }
        }

        private int Slot(int row, int mask) => (int)(keys.Hash(row) >> 33) & mask;

        private void Grow()
        {
            var (slots, groups) = (_slots, _groups);
            _slots = new int[slots.Length * 2];
            _groups = new int[slots.Length * 2];
            int mask = _slots.Length - 1;
            for (int i = 0; i < slots.Length; i++)
            {
                if (slots[i] == 0) continue;
                int slot = Slot(slots[i] - 1, mask);
                while (_slots[slot] != 0) slot = (slot + 1) & mask;
                _slots[slot] = slots[i];
                _groups[slot] = groups[i];
            }
        }
    }
}
