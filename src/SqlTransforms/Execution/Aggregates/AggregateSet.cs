using Apache.Arrow;
using DataPlane.SqlTransforms.Planning;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// The accumulators of one Aggregate node's calls, driven together: each reads its argument column and, with
/// FILTER (WHERE ...), only the rows where its filter column is true. Hash aggregation has one set; windowed
/// aggregation one per pane or one for all sessions, merging and clearing groups and writing them to snapshots.
/// </summary>
internal sealed class AggregateSet
{
    private readonly IReadOnlyList<AggregateCall> _calls;
    private readonly IReadOnlyList<SqlType> _inputTypes;
    private readonly IReadOnlyList<SqlType> _resultTypes;
    private readonly IGroupAccumulator[] _accumulators;
    private int[] _filtered = [];

    private readonly int? _order;

    /// <param name="order">The input column ordering first, last and array_agg (a window's event time); null for arrival order.</param>
    public AggregateSet(IReadOnlyList<AggregateCall> calls, IReadOnlyList<SqlType> inputTypes, IReadOnlyList<SqlType> resultTypes, int? order = null)
    {
        _calls = calls;
        _inputTypes = inputTypes;
        _resultTypes = resultTypes;
        _order = order;
        _accumulators = new IGroupAccumulator[calls.Count];
        for (int i = 0; i < calls.Count; i++) _accumulators[i] = Create(i);
    }

    private IGroupAccumulator Create(int i)
    {
        var c = _calls[i];
        var argument = c.Argument is { } a ? _inputTypes[a] : null;
        var result = _resultTypes[i];
        return c.Distinct && argument is not null
            ? new DistinctAccumulator(argument, () => c.Function.Create(argument, result, c.Parameter))
            : c.Function.Create(argument, result, c.Parameter);
    }

    /// <summary>
    /// Empties groups 0 to <paramref name="groups"/> - 1, keeping the arrays (a spilled shard's table is reused at the
    /// capacity it grew to). A DISTINCT aggregate starts anew instead: clearing its groups one by one keeps or compacts
    /// its table of values, where a new one is empty.
    /// </summary>
    public void Reset(int groups)
    {
        for (int i = 0; i < _accumulators.Length; i++)
        {
            if (_accumulators[i] is DistinctAccumulator) { _accumulators[i] = Create(i); continue; }
            var accumulator = _accumulators[i];
            for (int g = 0; g < groups; g++) accumulator.Clear(g);
        }
    }

    public int Count => _accumulators.Length;

    /// <summary>The input columns <see cref="Update"/> reads: the calls' arguments and filters, and the order column when an
    /// accumulator orders by it.</summary>
    public IEnumerable<int> InputColumns =>
        _calls.SelectMany(c => new[] { c.Argument, c.Filter })
            .Append(_accumulators.Any(a => a is IOrderedAccumulator) ? _order : null).OfType<int>().Distinct();

    /// <summary>The accumulators, in call order (for tests of the state's bounds).</summary>
    internal IReadOnlyList<IGroupAccumulator> Accumulators => _accumulators;

    /// <summary>A set of the same calls with no groups (a new pane, or the merge of panes into a window).</summary>
    public AggregateSet Empty() => new(_calls, _inputTypes, _resultTypes, _order);

    public void Update(IArrowArray[] columns, ReadOnlySpan<int> groups, int groupCount)
    {
        for (int i = 0; i < _accumulators.Length; i++)
        {
            var call = _calls[i];
            var rows = groups;
            if (call.Filter is { } f)
            {
                var condition = (BooleanArray)columns[f];
                if (_filtered.Length < groups.Length) _filtered = new int[Math.Max(groups.Length, _filtered.Length * 2)];
                for (int r = 0; r < groups.Length; r++)
                    _filtered[r] = condition.GetValue(r) == true ? groups[r] : -1;
                rows = _filtered.AsSpan(0, groups.Length);
            }
            var input = call.Argument is { } a ? columns[a] : null;
            if (_order is { } o && _accumulators[i] is IOrderedAccumulator ordered) ordered.Update(input, Vectors.Values<long>(columns[o]), rows, groupCount);
            else _accumulators[i].Update(input, rows, groupCount);
        }
    }

    public IArrowArray[] Result(ReadOnlySpan<int> groups)
    {
        var results = new IArrowArray[_accumulators.Length];
        for (int i = 0; i < results.Length; i++) results[i] = _accumulators[i].Result(groups);
        return results;
    }

    public void Merge(AggregateSet source, int from, int to)
    {
        for (int i = 0; i < _accumulators.Length; i++) _accumulators[i].Merge(source._accumulators[i], from, to);
    }

    public void Clear(int group)
    {
        foreach (var a in _accumulators) a.Clear(group);
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        foreach (var a in _accumulators) a.Write(writer, groupCount);
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        foreach (var a in _accumulators) a.Read(reader, groupCount);
    }
}
