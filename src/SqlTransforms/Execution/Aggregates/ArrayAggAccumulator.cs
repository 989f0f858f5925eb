using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// array_agg (list): a group's values, NULLs included, as a list in event-time order in a window (ties in arrival
/// order), arrival order over bounded input. Each value is kept as its own object: a list grows with its input
/// anyway, and array_agg is not the aggregate hot paths use.
/// </summary>
internal sealed class ArrayAggAccumulator(SqlType element) : IOrderedAccumulator
{
    private readonly record struct Item(long Order, long Arrival, object? Value);

    private List<Item>?[] _items = new List<Item>?[16];
    private long _next;

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount) => Update(input, default, groups, groupCount);

    public void Update(IArrowArray? input, ReadOnlySpan<long> order, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _items, groupCount);
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0) continue;
            long arrival = _next++;
            (_items[g] ??= []).Add(new Item(order.IsEmpty ? arrival : order[i], arrival, ValueArrays.Get(input!, element, i)));
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var lists = new object?[groups.Length];
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            var items = g < _items.Length ? _items[g] : null;
            if (items is null || items.Count == 0) continue;
            var sorted = items.ToArray();
            Array.Sort(sorted, (a, b) => a.Order != b.Order ? a.Order.CompareTo(b.Order) : a.Arrival.CompareTo(b.Arrival));
            lists[i] = sorted.Select(x => x.Value).ToArray();
        }
        return ValueArrays.FromValues(SqlType.List(element), lists);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (ArrayAggAccumulator)source;
        // rows that arrive after a merge come after the merged ones (see FirstLastAccumulator.Merge)
        if (s._next > _next) _next = s._next;
        GroupArrays.Grow(ref _items, to + 1);
        if (from >= s._items.Length || s._items[from] is not { } items) return;
        (_items[to] ??= []).AddRange(items);
    }

    public void Clear(int group)
    {
        if (group < _items.Length) _items[group] = null;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _items, groupCount);
        writer.Write(_next);
        for (int g = 0; g < groupCount; g++)
        {
            var items = _items[g];
            writer.Write(items?.Count ?? 0);
            if (items is null) continue;
            foreach (var item in items)
            {
                writer.Write(item.Order);
                writer.Write(item.Arrival);
                FlatValues.Write(writer, element, item.Value);
            }
        }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _items, groupCount);
        _next = reader.ReadInt64();
        for (int g = 0; g < groupCount; g++)
        {
            int count = reader.ReadInt32();
            _items[g] = count == 0 ? null : new List<Item>(count);
            for (int i = 0; i < count; i++) _items[g]!.Add(new Item(reader.ReadInt64(), reader.ReadInt64(), FlatValues.Read(reader, element)));
        }
    }
}

/// <summary>Single values of flat types (as <see cref="ValueArrays"/> represents them) in a state snapshot.</summary>
internal static class FlatValues
{
    public static void Write(BinaryWriter writer, SqlType type, object? value)
    {
        writer.Write(value is not null);
        switch (value)
        {
            case null: return;
            case bool b: writer.Write(b); return;
            case int i: writer.Write(i); return;
            case long l: writer.Write(l); return;
            case float f: writer.Write(f); return;
            case double d: writer.Write(d); return;
            case Int128 x: writer.Write((ulong)(x >> 64)); writer.Write((ulong)x); return;
            case IntervalValue v: writer.Write(v.Months); writer.Write(v.Days); writer.Write(v.Nanoseconds); return;
            case Guid g: writer.Write(g.ToByteArray(bigEndian: true)); return;
            case string s: writer.Write(s); return;
            case byte[] bytes: writer.Write(bytes.Length); writer.Write(bytes); return;
        }
        throw new NotSupportedException($"no snapshot of a {type} value");
    }

    public static object? Read(BinaryReader reader, SqlType type)
    {
        if (!reader.ReadBoolean()) return null;
        return type.Kind switch
        {
            SqlTypeKind.Boolean => reader.ReadBoolean(),
            SqlTypeKind.Integer or SqlTypeKind.Date => reader.ReadInt32(),
            SqlTypeKind.BigInt or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz => reader.ReadInt64(),
            SqlTypeKind.Real => reader.ReadSingle(),
            SqlTypeKind.Double => reader.ReadDouble(),
            SqlTypeKind.Decimal => (Int128)new UInt128(reader.ReadUInt64(), reader.ReadUInt64()),
            SqlTypeKind.Interval => new IntervalValue(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64()),
            SqlTypeKind.Uuid => new Guid(reader.ReadBytes(16), bigEndian: true),
            SqlTypeKind.Varchar => reader.ReadString(),
            SqlTypeKind.Blob => reader.ReadBytes(reader.ReadInt32()),
            _ => throw new NotSupportedException($"no snapshot of a {type} value"),
        };
    }
}
