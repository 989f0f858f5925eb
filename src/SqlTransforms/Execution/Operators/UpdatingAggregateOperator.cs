using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// GROUP BY keys without a window over a stream: an updating aggregate. Every key's aggregates are kept for as long
/// as the stream runs; <see cref="Flush"/> (the runtime calls it just before each sink commit) emits the current row
/// of each key that changed since the last flush, which the sink writes over the key's older row (an equality delete
/// on the keys plus the new row, in one snapshot). The input is append-only, so min and max never retract. A record
/// with a NULL key is dropped and counted: a key is the sink table's identifier, whose columns are required.
/// </summary>
internal sealed class UpdatingAggregateOperator : Operator, IStatefulOperator
{
    public static readonly RowErrorReason NullKey = new("null_key", "a record whose GROUP BY key is NULL, which an updating aggregate's sink table cannot identify");

    private readonly IReadOnlyList<int> _keys;
    private readonly Schema _schema;
    private readonly RowErrorLog _log;
    private readonly KeyCodec _codec;
    private readonly IArrowArray[] _keyColumns;
    private readonly AggregateSet _aggregates;
    private KeyTable _table = new();
    /// <summary>The keys changed since the last flush, in the order they first changed, and a flag per key id.</summary>
    private readonly List<int> _changed = [];
    private bool[] _isChanged = new bool[16];
    private int[] _groups = [];

    public UpdatingAggregateOperator(IReadOnlyList<int> keys, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<AggregateCall> calls, Schema schema,
        IReadOnlyList<SqlType> outputTypes, RowErrorLog log)
    {
        _keys = keys;
        _schema = schema;
        _log = log;
        _codec = new KeyCodec(keys.Select(k => inputTypes[k]).ToList());
        _keyColumns = new IArrowArray[keys.Count];
        _aggregates = new AggregateSet(calls, inputTypes, outputTypes.Skip(keys.Count).ToList());
        Name = "updating aggregate keys [" + string.Join(", ", schema.FieldsList.Take(keys.Count).Select(f => f.Name)) + "]";
    }

    public string Name { get; }

    public override void Push(RecordBatch batch)
    {
        int n = batch.Length;
        if (_groups.Length < n) _groups = new int[n];
        for (int k = 0; k < _keys.Count; k++) _keyColumns[k] = batch.Column(_keys[k]);
        for (int i = 0; i < n; i++)
        {
            if (HasNullKey(i))
            {
                _groups[i] = -1;
                _log.Count(NullKey);
                _log.Sample(NullKey, "a GROUP BY key is NULL");
                continue;
            }
            int id = _table.GetOrAdd(_codec.Encode(_keyColumns, i));
            _groups[i] = id;
            MarkChanged(id);
        }
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        _aggregates.Update(columns, _groups.AsSpan(0, n), _table.Count);
    }

    private bool HasNullKey(int row)
    {
        foreach (var column in _keyColumns)
            if (column.IsNull(row)) return true;
        return false;
    }

    private void MarkChanged(int id)
    {
        if (id >= _isChanged.Length) Array.Resize(ref _isChanged, Math.Max(id + 1, _isChanged.Length * 2));
        if (_isChanged[id]) return;
        _isChanged[id] = true;
        _changed.Add(id);
    }

    /// <summary>Emits the current row of every key changed since the last flush: its key columns, then its aggregates.</summary>
    public void Flush()
    {
        int count = _changed.Count;
        if (count == 0) return;
        var ids = _changed.ToArray();
        foreach (int id in ids) _isChanged[id] = false;
        _changed.Clear();
        var columns = new IArrowArray[_keys.Count + _aggregates.Count];
        _codec.Decode(_table, ids).CopyTo(columns, 0);
        _aggregates.Result(ids).CopyTo(columns, _keys.Count);
        Emit(new RecordBatch(_schema, columns, count));
    }

    /// <summary>The end of bounded input: the changes since the last flush.</summary>
    public override void Finish()
    {
        Flush();
        base.Finish();
    }

    public void WriteState(BinaryWriter writer)
    {
        _table.Write(writer);
        _aggregates.Write(writer, _table.Count);
        writer.Write(_changed.Count);
        foreach (int id in _changed) writer.Write(id);
    }

    public void ReadState(BinaryReader reader)
    {
        _table = KeyTable.Read(reader);
        _aggregates.Read(reader, _table.Count);
        _changed.Clear();
        _isChanged = new bool[Math.Max(16, _table.Count)];
        int changed = reader.ReadInt32();
        if (changed < 0 || changed > _table.Count) throw new InvalidDataException($"the snapshot names {changed} changed keys of {_table.Count}");
        for (int i = 0; i < changed; i++)
        {
            int id = reader.ReadInt32();
            if (id < 0 || id >= _table.Count) throw new InvalidDataException($"the snapshot names key {id} of {_table.Count}");
            MarkChanged(id);
        }
    }
}
