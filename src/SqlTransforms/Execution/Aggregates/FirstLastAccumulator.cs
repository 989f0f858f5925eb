using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// first_value (first) and last_value (last): the value, NULL included, of the group's earliest (latest) row by
/// event time in a window, ties going to the earlier (later) arrival; by arrival over bounded input.
/// </summary>
internal sealed class FirstLastAccumulator(SqlType type, bool last) : IOrderedAccumulator
{
    private readonly ValueStore _values = new(type);
    private bool[] _seen = new bool[16];
    private long[] _order = new long[16];
    private long[] _arrival = new long[16];
    private long _next;

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount) => Update(input, default, groups, groupCount);

    public void Update(IArrowArray? input, ReadOnlySpan<long> order, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(groupCount);
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0) continue;
            long arrival = _next++;
            long o = order.IsEmpty ? arrival : order[i];
            if (_seen[g] && (last ? o < _order[g] : o >= _order[g])) continue;
            _seen[g] = true;
            _order[g] = o;
            _arrival[g] = arrival;
            if (input!.IsNull(i)) _values.Clear(g);
            else _values.Set(g, input, i);
        }
    }

    private void Grow(int groups)
    {
        _values.Ensure(groups);
        GroupArrays.Grow(ref _seen, groups);
        GroupArrays.Grow(ref _order, groups);
        GroupArrays.Grow(ref _arrival, groups);
    }

    public IArrowArray Result(ReadOnlySpan<int> groups) => _values.Build(groups);

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (FirstLastAccumulator)source;
        // rows that arrive after a merge come after the merged ones (an updating aggregate's groups restored into
        // another shard, or folded from spilled runs, go on counting from there)
        if (s._next > _next) _next = s._next;
        Grow(to + 1);
        if (from >= s._seen.Length || !s._seen[from]) return;
        if (_seen[to] && (last ? s._order[from] < _order[to] : s._order[from] >= _order[to])) return;
        _seen[to] = true;
        _order[to] = s._order[from];
        _arrival[to] = s._arrival[from];
        if (s._values.Has(from)) _values.Set(to, s._values, from);
        else _values.Clear(to);
    }

    public void Clear(int group)
    {
        if (group >= _seen.Length) return;
        _seen[group] = false;
        _values.Clear(group);
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        Grow(groupCount);
        writer.Write(_next);
        for (int g = 0; g < groupCount; g++) { writer.Write(_seen[g]); writer.Write(_order[g]); writer.Write(_arrival[g]); }
        _values.Write(writer, groupCount);
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        Grow(groupCount);
        _next = reader.ReadInt64();
        for (int g = 0; g < groupCount; g++) { _seen[g] = reader.ReadBoolean(); _order[g] = reader.ReadInt64(); _arrival[g] = reader.ReadInt64(); }
        _values.Read(reader, groupCount);
    }
}
