using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Aggregates;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Syntax;

namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// A lookup join: each batch of the stream is matched, by its encoded keys, against a hash table of the lookup table's
/// rows as the host last loaded them (<paramref name="rows"/>, asked for once per batch). The table is indexed again
/// when the host hands out new rows (a new snapshot), so later batches see the new values. The stream's rows are
/// not kept: the table is the state, and the operator has nothing to checkpoint. Matches come out in the stream's
/// order (a row's matches in the table's order); in a LEFT join a row without one comes out with NULLs.
/// </summary>
internal sealed class LookupJoinOperator(LookupSpec spec, Schema schema, Func<string, RecordBatch> rows, RowErrorLog log, Func<long> clock) : Operator
{
    private const int PairsPerBatch = 16_384;

    private readonly Kernel[] _streamKeys = [.. spec.StreamKeys.Select(ExpressionCompiler.Compile)];
    private readonly Kernel[] _tableKeys = [.. spec.TableKeys.Select(ExpressionCompiler.Compile)];
    private readonly KeyCodec _codec = new(spec.StreamKeys.Select(k => k.Type).ToList());
    private readonly EvalContext _context = new();
    private readonly List<int> _streamRows = [];
    private readonly List<int> _tableRows = [];
    private RecordBatch? _table;
    private KeyTable _index = new();
    private int[] _first = [];
    private int[] _next = [];

    public override void Push(RecordBatch batch)
    {
        var table = rows(spec.Table);
        if (!ReferenceEquals(table, _table)) Index(table);
        int n = batch.Length;
        if (n == 0) return;
        var keys = Evaluate(_streamKeys, batch);
        bool failures = _context.Errors.Count > 0;
        if (failures) _context.Errors.Report(log, n, "ON");
        _streamRows.Clear();
        _tableRows.Clear();
        for (int i = 0; i < n; i++)
        {
            if (failures && _context.Errors.HasFailed(i)) continue;
            int match = Find(keys, i);
            if (match < 0 && spec.Kind == JoinKind.Left) { _streamRows.Add(i); _tableRows.Add(-1); }
            for (; match >= 0; match = _next[match]) { _streamRows.Add(i); _tableRows.Add(match); }
            if (_streamRows.Count >= PairsPerBatch) Flush(batch);
        }
        Flush(batch);
    }

    private int Find(IArrowArray[] keys, int row)
    {
        for (int k = 0; k < keys.Length; k++)
            if (!keys[k].IsValid(row)) return -1;
        int id = _index.Find(_codec.Encode(keys, row));
        return id < 0 ? -1 : _first[id];
    }

    private void Flush(RecordBatch batch)
    {
        if (_streamRows.Count == 0) return;
        var streamRows = _streamRows.ToArray();
        var tableRows = _tableRows.ToArray();
        var columns = new IArrowArray[schema.FieldsList.Count];
        for (int c = 0; c < batch.ColumnCount; c++) columns[c] = Gather.Take(batch.Column(c), streamRows);
        for (int c = 0; c < spec.TableColumns.Count; c++)
            columns[batch.ColumnCount + c] = _table!.Length == 0 ? Vectors.Nulls(spec.TableColumns[c].Type, tableRows.Length) : Gather.Take(_table.Column(c), tableRows);
        _streamRows.Clear();
        _tableRows.Clear();
        Emit(new RecordBatch(schema, columns, streamRows.Length));
    }

    /// <summary>The table's rows by key: per key its first row, and per row the next of the same key (-1 ends).</summary>
    private void Index(RecordBatch table)
    {
        // an empty table may come without columns: it matches nothing
        if (table.Length > 0 && table.ColumnCount != spec.TableColumns.Count)
            throw new InvalidOperationException($"the rows of {spec.Table} have {table.ColumnCount} columns where the lookup join was compiled with {spec.TableColumns.Count}");
        if (table.Length == 0)
        {
            (_table, _index, _first, _next) = (table, new KeyTable(), [], []);
            return;
        }
        var keys = Evaluate(_tableKeys, table);
        var index = new KeyTable();
        var first = new int[16];
        var last = new int[16];
        var next = new int[table.Length];
        for (int row = 0; row < table.Length; row++)
        {
            next[row] = -1;
            bool keyed = _context.Errors.Count == 0 || !_context.Errors.HasFailed(row);
            for (int k = 0; k < keys.Length && keyed; k++) keyed = keys[k].IsValid(row);
            if (!keyed) continue; // a NULL key (or one that does not convert) matches nothing
            int id = index.GetOrAdd(_codec.Encode(keys, row), out bool added);
            if (added)
            {
                GroupArrays.Grow(ref first, id + 1);
                GroupArrays.Grow(ref last, id + 1);
                first[id] = row;
            }
            else next[last[id]] = row;
            last[id] = row;
        }
        (_table, _index, _first, _next) = (table, index, first, next);
    }

    private IArrowArray[] Evaluate(Kernel[] kernels, RecordBatch batch)
    {
        var columns = new IArrowArray[batch.ColumnCount];
        for (int c = 0; c < columns.Length; c++) columns[c] = batch.Column(c);
        _context.Start(columns, batch.Length, clock());
        var keys = new IArrowArray[kernels.Length];
        for (int k = 0; k < keys.Length; k++) keys[k] = kernels[k].Evaluate(_context);
        return keys;
    }
}
