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
        if (_counts.Length < groupCount) Array.Resize(ref _counts, Math.Max(groupCount, _counts.Length * 2));
        bool nulls = input is not null && input.NullCount > 0;
        for (int i = 0; i < groups.Length; i++)
            if (!nulls || input!.IsValid(i)) _counts[groups[i]]++;
    }

    public IArrowArray Result(int groupCount) => ValueArrays.FromValues(SqlType.BigInt, _counts.Take(groupCount).Select(c => (object?)c).ToList());
}

/// <summary>sum of integers into a 128-bit total (DuckDB's HUGEINT, Arrow's DECIMAL(38,0)); NULL for a group with no values.</summary>
internal sealed class IntegerSumAccumulator(SqlTypeKind input) : IGroupAccumulator
{
    private Int128[] _sums = new Int128[16];
    private bool[] _seen = new bool[16];

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        if (_sums.Length < groupCount) { Array.Resize(ref _sums, Math.Max(groupCount, _sums.Length * 2)); Array.Resize(ref _seen, _sums.Length); }
        for (int i = 0; i < groups.Length; i++)
        {
            if (values!.IsNull(i)) continue;
            _sums[groups[i]] += input == SqlTypeKind.Integer ? Vectors.Values<int>(values)[i] : Vectors.Values<long>(values)[i];
            _seen[groups[i]] = true;
        }
    }

    public IArrowArray Result(int groupCount) =>
        ValueArrays.FromValues(SqlType.Decimal(38, 0), Enumerable.Range(0, groupCount).Select(g => _seen[g] ? (object?)_sums[g] : null).ToList());
}

/// <summary>sum and avg of DOUBLE values.</summary>
internal sealed class DoubleSumAccumulator(bool average) : IGroupAccumulator
{
    private double[] _sums = new double[16];
    private long[] _counts = new long[16];

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        if (_sums.Length < groupCount) { Array.Resize(ref _sums, Math.Max(groupCount, _sums.Length * 2)); Array.Resize(ref _counts, _sums.Length); }
        var v = Vectors.Values<double>(values!);
        for (int i = 0; i < groups.Length; i++)
        {
            if (values!.IsNull(i)) continue;
            _sums[groups[i]] += v[i];
            _counts[groups[i]]++;
        }
    }

    public IArrowArray Result(int groupCount) =>
        ValueArrays.FromValues(SqlType.Double, Enumerable.Range(0, groupCount)
            .Select(g => _counts[g] == 0 ? null : (object?)(average ? _sums[g] / _counts[g] : _sums[g])).ToList());
}

/// <summary>min and max of any comparable type, comparing with the type's comparison kernel order.</summary>
internal sealed class ExtremeAccumulator(SqlType type, bool max) : IGroupAccumulator
{
    private readonly List<object?> _best = [];
    private readonly Comparison<object> _compare = ValueOrder.For(type);

    public void Update(IArrowArray? values, ReadOnlySpan<int> groups, int groupCount)
    {
        while (_best.Count < groupCount) _best.Add(null);
        for (int i = 0; i < groups.Length; i++)
        {
            if (values!.IsNull(i)) continue;
            var v = ValueArrays.Get(values, type, i)!;
            var current = _best[groups[i]];
            if (current is null || (_compare(v, current) is var c && (max ? c > 0 : c < 0))) _best[groups[i]] = v;
        }
    }

    public IArrowArray Result(int groupCount)
    {
        while (_best.Count < groupCount) _best.Add(null);
        return ValueArrays.FromValues(type, _best.Take(groupCount).ToList());
    }
}

/// <summary>The order of single values of a type (for min/max and ORDER BY over bounded input), consistent with the comparison kernels.</summary>
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
