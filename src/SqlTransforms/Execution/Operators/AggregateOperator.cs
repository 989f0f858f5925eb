using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// Hash aggregation over bounded input: group ids from the key values, accumulators updated per batch, one row per
/// group at the end (one row with no keys when the input is empty, as SQL wants for a plain aggregate).
/// The key table boxes key values (nested keys too): good enough for the CLI; windowed aggregation
/// (<see cref="WindowAggregateOperator"/>) keys by encoded bytes instead.
/// </summary>
internal sealed class AggregateOperator : Operator
{
    private readonly IReadOnlyList<int> _keys;
    private readonly IReadOnlyList<SqlType> _inputTypes;
    private readonly AggregateSet _aggregates;
    private readonly Schema _schema;
    private readonly IReadOnlyList<SqlType> _outputTypes;
    private readonly Dictionary<GroupKey, int> _groups = new();
    private readonly List<object?[]> _keyValues = [];

    public AggregateOperator(IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls, Schema schema, IReadOnlyList<SqlType> outputTypes)
    {
        _keys = keys;
        _inputTypes = inputTypes;
        _schema = schema;
        _outputTypes = outputTypes;
        _aggregates = new AggregateSet(calls, inputTypes, outputTypes.Skip(keys.Count).ToList());
    }

    public override void Push(RecordBatch batch)
    {
        var groups = new int[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            var values = new object?[_keys.Count];
            for (int k = 0; k < values.Length; k++) values[k] = ValueArrays.Get(batch.Column(_keys[k]), _inputTypes[_keys[k]], i);
            var key = new GroupKey(values);
            if (!_groups.TryGetValue(key, out int id))
            {
                id = _groups.Count;
                _groups.Add(key, id);
                _keyValues.Add(values);
            }
            groups[i] = id;
        }
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        _aggregates.Update(columns, groups, _groups.Count);
    }

    public override void Finish()
    {
        int count = _groups.Count;
        if (count == 0 && _keys.Count == 0) count = 1;
        if (count > 0)
        {
            var ids = new int[count];
            for (int i = 0; i < count; i++) ids[i] = i;
            var columns = new IArrowArray[_keys.Count + _aggregates.Count];
            for (int k = 0; k < _keys.Count; k++)
                columns[k] = ValueArrays.FromValues(_outputTypes[k], _keyValues.Select(v => v[k]).ToList());
            _aggregates.Result(ids).CopyTo(columns, _keys.Count);
            Emit(new RecordBatch(_schema, columns, count));
        }
        base.Finish();
    }

    /// <summary>Key values compared as SQL's GROUP BY does (NULLs group together).</summary>
    private sealed class GroupKey(object?[] values) : IEquatable<GroupKey>
    {
        private readonly object?[] _values = values;

        public bool Equals(GroupKey? other) => other is not null && _values.Length == other._values.Length
            && _values.Zip(other._values).All(p => p.First is byte[] a && p.Second is byte[] b ? a.AsSpan().SequenceEqual(b) : Equals(p.First, p.Second));

        public override bool Equals(object? obj) => Equals(obj as GroupKey);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var v in _values) h.Add(v is byte[] b ? b.Length : v is double d && d == 0 ? 0.0 : v);
            return h.ToHashCode();
        }
    }
}
