using System.Buffers.Binary;
using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// An aggregate over DISTINCT values (count(DISTINCT x), sum(DISTINCT x)...): each group's distinct values are kept
/// in one key table as (group, generation, value) keys, linked per group; the aggregate itself runs over them when
/// the result is asked for, so merging groups (panes, sessions) is a union. Clearing a group starts a new
/// generation: its old keys stay in the table but no longer count.
/// </summary>
internal sealed class DistinctAccumulator(SqlType type, Func<IGroupAccumulator> create) : IGroupAccumulator
{
    private readonly KeyCodec _value = new([type]);
    private readonly KeyCodec _entries = new([SqlType.Integer, SqlType.Integer, type]);
    private readonly IArrowArray[] _column = new IArrowArray[1];
    private KeyTable _table = new();
    private int[] _generation = new int[16];
    private int[] _first = Filled(16);      // per group: its latest entry, or -1
    private int[] _next = new int[16];      // per entry: the group's previous entry, or -1
    private byte[] _buffer = new byte[64];
    private int _live;                      // entries of the groups' current generations

    private static int[] Filled(int n)
    {
        var a = new int[n];
        Array.Fill(a, -1);
        return a;
    }

    private void Grow(int groups)
    {
        if (_first.Length >= groups) return;
        int old = _first.Length;
        GroupArrays.Grow(ref _first, groups);
        GroupArrays.Grow(ref _generation, groups);
        Array.Fill(_first, -1, old, _first.Length - old);
    }

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(groupCount);
        _column[0] = input!;
        for (int i = 0; i < groups.Length; i++)
            if (groups[i] >= 0) Add(groups[i], _value.Encode(_column, i));
    }

    private void Add(int group, ReadOnlySpan<byte> value)
    {
        int size = 10 + value.Length;
        if (_buffer.Length < size) _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        _buffer[0] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(1), group);
        _buffer[5] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(6), _generation[group]);
        value.CopyTo(_buffer.AsSpan(10));
        int entry = _table.GetOrAdd(_buffer.AsSpan(0, size), out bool added);
        if (!added) return;
        _live++;
        GroupArrays.Grow(ref _next, entry + 1);
        _next[entry] = _first[group];
        _first[group] = entry;
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var entries = new List<int>();
        var target = new List<int>();
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g >= _first.Length) continue;
            int start = entries.Count;
            for (int e = _first[g]; e >= 0; e = _next[e]) { entries.Add(e); target.Add(i); }
            entries.Reverse(start, entries.Count - start); // first seen first
        }
        var inner = create();
        if (entries.Count > 0)
        {
            var values = _entries.Decode(_table, entries.ToArray())[2];
            inner.Update(values, target.ToArray(), groups.Length);
        }
        return inner.Result(groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (DistinctAccumulator)source;
        Grow(to + 1);
        if (from >= s._first.Length) return;
        var chain = new List<int>();
        for (int e = s._first[from]; e >= 0; e = s._next[e]) chain.Add(e);
        for (int i = chain.Count - 1; i >= 0; i--) Add(to, s._table.Key(chain[i])[10..]);
    }

    public void Clear(int group)
    {
        if (group >= _first.Length) return;
        for (int e = _first[group]; e >= 0; e = _next[e]) _live--;
        _first[group] = -1;
        _generation[group]++;
        if (_table.Count > 1024 && _live * 2 < _table.Count) Compact();
    }

    /// <summary>A new table holding only the live entries, each group's in the order they were added.</summary>
    private void Compact()
    {
        var old = _table;
        var oldNext = _next;
        var firsts = (int[])_first.Clone();
        _table = new KeyTable();
        _next = new int[16];
        Array.Fill(_first, -1);
        _live = 0;
        var chain = new List<int>();
        for (int g = 0; g < firsts.Length; g++)
        {
            chain.Clear();
            for (int e = firsts[g]; e >= 0; e = oldNext[e]) chain.Add(e);
            for (int i = chain.Count - 1; i >= 0; i--) Add(g, old.Key(chain[i])[10..]);
        }
    }

    /// <summary>Entries held, live or not (for tests of the state's bounds).</summary>
    internal int Entries => _table.Count;

    public void Write(BinaryWriter writer, int groupCount)
    {
        Grow(groupCount);
        _table.Write(writer);
        for (int g = 0; g < groupCount; g++) writer.Write(_generation[g]);
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        _table = KeyTable.Read(reader);
        _live = 0;
        _first = Filled(Math.Max(16, groupCount));
        _generation = new int[_first.Length];
        for (int g = 0; g < groupCount; g++) _generation[g] = reader.ReadInt32();
        _next = new int[Math.Max(16, _table.Count)];
        // relink the entries of each group's current generation in the order they were added
        for (int e = 0; e < _table.Count; e++)
        {
            var key = _table.Key(e);
            int group = BinaryPrimitives.ReadInt32LittleEndian(key[1..]);
            if (group >= groupCount || BinaryPrimitives.ReadInt32LittleEndian(key[6..]) != _generation[group]) continue;
            _next[e] = _first[group];
            _first[group] = e;
            _live++;
        }
    }
}
