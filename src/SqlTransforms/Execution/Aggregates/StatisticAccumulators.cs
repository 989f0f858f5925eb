using Apache.Arrow;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// stddev_samp (stddev), stddev_pop, var_samp (variance), var_pop of DOUBLE values: count, mean and the sum of squared
/// differences per group (Welford's update, Chan's merge, so panes and sessions combine exactly as one pass would up to
/// rounding). NULL for a group with too few values (none for the population forms, one for the sample forms).
/// </summary>
internal sealed class VarianceAccumulator(bool sample, bool root) : IGroupAccumulator
{
    private long[] _counts = new long[16];
    private double[] _means = new double[16];
    private double[] _m2 = new double[16];

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        Grow(groupCount);
        var v = Vectors.Values<double>(input!);
        bool nulls = input!.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0 || (nulls && input.IsNull(i))) continue;
            long n = ++_counts[g];
            double delta = v[i] - _means[g];
            _means[g] += delta / n;
            _m2[g] += delta * (v[i] - _means[g]);
        }
    }

    private void Grow(int groups)
    {
        GroupArrays.Grow(ref _counts, groups);
        GroupArrays.Grow(ref _means, groups);
        GroupArrays.Grow(ref _m2, groups);
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        var bytes = Vectors.Allocate<double>(groups.Length, out var values);
        var validity = new byte[(groups.Length + 7) / 8];
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            long n = g < _counts.Length ? _counts[g] : 0;
            if (n == 0 || (sample && n == 1)) continue;
            double variance = _m2[g] / (sample ? n - 1 : n);
            values[i] = root ? Math.Sqrt(variance) : variance;
            Vectors.Set(validity, i);
        }
        return Vectors.Fixed(SqlType.Double, bytes, validity, groups.Length);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (VarianceAccumulator)source;
        Grow(to + 1);
        if (from >= s._counts.Length || s._counts[from] == 0) return;
        long na = _counts[to], nb = s._counts[from], n = na + nb;
        double delta = s._means[from] - _means[to];
        _m2[to] += s._m2[from] + delta * delta * na * nb / n;
        _means[to] += delta * nb / n;
        _counts[to] = n;
    }

    public void Clear(int group)
    {
        if (group >= _counts.Length) return;
        _counts[group] = 0;
        _means[group] = 0;
        _m2[group] = 0;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        Grow(groupCount);
        for (int g = 0; g < groupCount; g++) { writer.Write(_counts[g]); writer.Write(_means[g]); writer.Write(_m2[g]); }
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        Grow(groupCount);
        for (int g = 0; g < groupCount; g++) { _counts[g] = reader.ReadInt64(); _means[g] = reader.ReadDouble(); _m2[g] = reader.ReadDouble(); }
    }
}

/// <summary>bool_and and bool_or: whether every (any) non-NULL value is true; NULL for a group with none.</summary>
internal sealed class BooleanAccumulator(bool and) : IGroupAccumulator
{
    private bool[] _seen = new bool[16];
    private bool[] _value = new bool[16];

    public void Update(IArrowArray? input, ReadOnlySpan<int> groups, int groupCount)
    {
        GroupArrays.Grow(ref _seen, groupCount);
        GroupArrays.Grow(ref _value, groupCount);
        var values = (BooleanArray)input!;
        for (int i = 0; i < groups.Length; i++)
        {
            int g = groups[i];
            if (g < 0 || values.GetValue(i) is not { } v) continue;
            _value[g] = _seen[g] ? (and ? _value[g] && v : _value[g] || v) : v;
            _seen[g] = true;
        }
    }

    public IArrowArray Result(ReadOnlySpan<int> groups)
    {
        int n = groups.Length;
        var bits = new byte[(n + 7) / 8];
        var validity = new byte[(n + 7) / 8];
        for (int i = 0; i < n; i++)
        {
            int g = groups[i];
            if (g >= _seen.Length || !_seen[g]) continue;
            Vectors.Set(validity, i);
            if (_value[g]) Vectors.Set(bits, i);
        }
        return Vectors.Boolean(bits, validity, n);
    }

    public void Merge(IGroupAccumulator source, int from, int to)
    {
        var s = (BooleanAccumulator)source;
        GroupArrays.Grow(ref _seen, to + 1);
        GroupArrays.Grow(ref _value, to + 1);
        if (from >= s._seen.Length || !s._seen[from]) return;
        _value[to] = _seen[to] ? (and ? _value[to] && s._value[from] : _value[to] || s._value[from]) : s._value[from];
        _seen[to] = true;
    }

    public void Clear(int group)
    {
        if (group >= _seen.Length) return;
        _seen[group] = false;
        _value[group] = false;
    }

    public void Write(BinaryWriter writer, int groupCount)
    {
        GroupArrays.Grow(ref _seen, groupCount);
        GroupArrays.Grow(ref _value, groupCount);
        for (int g = 0; g < groupCount; g++) writer.Write((byte)((_seen[g] ? 1 : 0) | (_value[g] ? 2 : 0)));
    }

    public void Read(BinaryReader reader, int groupCount)
    {
        GroupArrays.Grow(ref _seen, groupCount);
        GroupArrays.Grow(ref _value, groupCount);
        for (int g = 0; g < groupCount; g++)
        {
            byte b = reader.ReadByte();
            _seen[g] = (b & 1) != 0;
            _value[g] = (b & 2) != 0;
        }
    }
}
