using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>count(*) and count(x): rows, or rows where x is not NULL.</summary>
internal sealed class CountAccumulator : IGroupAccumulator
{
    private long[] _counts = new long[16];

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _counts, groupCount);
        bool nulls = input is not null && input.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
            if (groups[i] >= 0 && (!nulls || input!.IsValid(i))) _counts[groups[i]]++;
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<long>(groups.Length, out var values);
        for (int i = 0; i < groups.Length; i++) values[i] = groups[i] < _counts.Length ? _counts[groups[i]] : 0;
        return Vectors.Fixed(SqlType.BigInt, bytes, null, groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (CountAccumulator)source;
        GroupArrays.Grow(ref _counts, to + 1);
        if (from < s._counts.Length) _counts[to] += s._counts[from];
    }

    public void Clear(int group) { if (group < _counts.Length) _counts[group] = 0; }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _counts, groupCount);
        for (int g = 0; g < groupCount; g++) writer.Write(_counts[g]);
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _counts, groupCount);
        for (int g = 0; g < groupCount; g++) _counts[g] = reader.ReadInt64();
    }
}

/// <summary>sum of integers into a 128-bit total (DuckDB's HUGEINT, Arrow's DECIMAL(38,0)); NULL for a group with no values.</summary>
internal sealed class IntegerSumAccumulator(SqlTypeKind input) : IGroupAccumulator
{
    private Int128[] _sums = new Int128[16];
    private bool[] _seen = new bool[16];

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _seen, groupCount);
        bool nulls = values!.NullCount > 0;
        if (input == SqlTypeKind.Integer)
        {
            var v = Vectors.Values<int>(values);
            for (int i = 0; i < groups.Length; i++)
                if (groups[i] >= 0 && (!nulls || values.IsValid(i))) { _sums[groups[i]] += v[i]; _seen[groups[i]] = true; }
        }
        else
        {
            var v = Vectors.Values<long>(values);
            for (int i = 0; i < groups.Length; i++)
                if (groups[i] >= 0 && (!nulls || values.IsValid(i))) { _sums[groups[i]] += v[i]; _seen[groups[i]] = true; }
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<Int128>(groups.Length, out var values);
        var validity = new byte[(groups.Length + 7) / 8];
        for (int i = 0; i < groups.Length; i++)
            if (groups[i] < _seen.Length && _seen[groups[i]]) { values[i] = _sums[groups[i]]; Vectors.Set(validity, i); }
        return Vectors.Fixed(SqlType.Decimal(38, 0), bytes, validity, groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (IntegerSumAccumulator)source;
        GroupArrays.Grow(ref _sums, to + 1);
        GroupArrays.Grow(ref _seen, to + 1);
        if (from >= s._seen.Length || !s._seen[from]) return;
        _sums[to] += s._sums[from];
        _seen[to] = true;
    }

    public void Clear(int group)
    {
        if (group >= _sums.Length) return;
        _sums[group] = 0;
        _seen[group] = false;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _seen, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            writer.Write(_seen[g]);
            writer.Write((ulong)(_sums[g] >> 64));
            writer.Write((ulong)_sums[g]);
        }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _seen, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            _seen[g] = reader.ReadBoolean();
            ulong high = reader.ReadUInt64(), low = reader.ReadUInt64();
            _sums[g] = (Int128)new UInt128(high, low);
        }
    }
}

/// <summary>sum and avg of DOUBLE values.</summary>
internal sealed class DoubleSumAccumulator(bool average) : IGroupAccumulator
{
    private double[] _sums = new double[16];
    private long[] _counts = new long[16];

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _counts, groupCount);
        var v = Vectors.Values<double>(values!);
        bool nulls = values!.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
        {
            if (groups[i] < 0 || (nulls && values.IsNull(i))) continue;
            _sums[groups[i]] += v[i];
            _counts[groups[i]]++;
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<double>(groups.Length, out var values);
        var validity = new byte[(groups.Length + 7) / 8];
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g >= _counts.Length || _counts[g] == 0) continue;
            values[i] = average ? _sums[g] / _counts[g] : _sums[g];
            Vectors.Set(validity, i);
        }
        return Vectors.Fixed(SqlType.Double, bytes, validity, groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (DoubleSumAccumulator)source;
        GroupArrays.Grow(ref _sums, to + 1);
        GroupArrays.Grow(ref _counts, to + 1);
        if (from >= s._counts.Length) return;
        _sums[to] += s._sums[from];
        _counts[to] += s._counts[from];
    }

    public void Clear(int group)
    {
        if (group >= _sums.Length) return;
        _sums[group] = 0;
        _counts[group] = 0;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _counts, groupCount);
        for (int g = 0; g < groupCount; g++) { writer.Write(_sums[g]); writer.Write(_counts[g]); }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _sums, groupCount);
        GroupArrays.Grow(ref _counts, groupCount);
        for (int g = 0; g < groupCount; g++) { _sums[g] = reader.ReadDouble(); _counts[g] = reader.ReadInt64(); }
    }
}

/// <summary>min and max of any flat type, in the order of the type's comparison kernels; values kept unboxed.</summary>
internal sealed class ExtremeAccumulator(SqlType type, bool max) : IGroupAccumulator
{
    private readonly ValueStore _best = new(type);

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        _best.Ensure(groupCount);
        bool nulls = values!.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0 || (nulls && values.IsNull(i))) continue;
            if (!_best.Has(g) || (_best.Compare(g, values, i) is var c && (max ? c < 0 : c > 0))) _best.Set(g, values, i);
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups) => _best.Build(groups);

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = ((ExtremeAccumulator)source)._best;
        _best.Ensure(to + 1);
        if (!s.Has(from)) return;
        if (!_best.Has(to) || (_best.Compare(to, s, from) is var c && (max ? c < 0 : c > 0))) _best.Set(to, s, from);
    }

    public void Clear(int group) => _best.Clear(group);

    public void Write(BinaryWriter writer, int groupCount) => _best.Write(writer, groupCount);

    public void Read(BinaryReader reader, int groupCount) => _best.Read(reader, groupCount);
}

/// <summary>The order of single values of a type (for ORDER BY over bounded input), consistent with the comparison kernels.</summary>
internal static class ValueOrder
{
    public static Comparison<object> For(SqlType type) => type.Kind switch
    {
        SqlTypeKind.Real => (a, b) => OrderDouble.Compare((float)a, (float)b),
        SqlTypeKind.Double => (a, b) => OrderDouble.Compare((double)a, (double)b),
        SqlTypeKind.Varchar => (a, b) => string.CompareOrdinal((string)a, (string)b) is var c && c != 0 ? Utf8Order((string)a, (string)b) : 0,
        SqlTypeKind.Blob => (a, b) => ((byte[])a).AsSpan().SequenceCompareTo((byte[])b),
        SqlTypeKind.Interval => (a, b) => OrderInterval.Compare((IntervalValue)a, (IntervalValue)b),
        SqlTypeKind.List or SqlTypeKind.Struct or SqlTypeKind.Map => (a, b) => 0,
        _ => (a, b) => ((IComparable)a).CompareTo(b),
    };

    /// <summary>Code point order (UTF-16 ordinal order differs for characters above U+FFFF).</summary>
    private static int Utf8Order(string a, string b) =>
        System.Text.Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b));
}
