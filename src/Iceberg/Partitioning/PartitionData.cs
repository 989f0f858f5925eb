using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>A data file's partition tuple: one value per field of its spec, in spec order (the spec's partition struct).
/// Equality compares values, byte arrays by content, so it can key a dictionary of open writers.</summary>
public sealed class PartitionData : IEquatable<PartitionData>
{
    public static readonly PartitionData Empty = new([]);

    public PartitionData(object?[] values) => Values = values;

    public IReadOnlyList<object?> Values { get; }
    public int Count => Values.Count;
    public object? this[int index] => Values[index];

    public bool Equals(PartitionData? other)
    {
        if (other is null || other.Count != Count) return false;
        for (var i = 0; i < Count; i++)
        {
            var (a, b) = (Comparable(Values[i]), Comparable(other.Values[i]));
            if (a is byte[] x && b is byte[] y ? !x.AsSpan().SequenceEqual(y) : !Equals(a, b)) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as PartitionData);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in Values)
        {
            if (v is byte[] b) h.AddBytes(b);
            else h.Add(Comparable(v));
        }
        return h.ToHashCode();
    }

    /// <summary>A System.Decimal given by a caller equals the <see cref="DecimalValue"/> read back from a manifest.</summary>
    private static object? Comparable(object? value) => value is decimal m ? (DecimalValue)m : value;

    public override string ToString() => "{" + string.Join(", ", Values.Select(v => v is byte[] b ? Convert.ToHexString(b) : v?.ToString() ?? "null")) + "}";
}
