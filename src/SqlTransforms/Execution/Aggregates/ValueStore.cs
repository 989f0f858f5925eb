using System.Runtime.InteropServices;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// One value per group of any flat type (numbers, times, intervals, booleans, strings, blobs), copied from Arrow
/// arrays without boxing: fixed-width values in one byte array, strings and blobs as their bytes. What min, max and
/// first/last keep per group; compares in the type's SQL order, and writes and reads itself for state snapshots.
/// </summary>
internal sealed class ValueStore
{
    private readonly SqlType _type;
    private readonly int _width;
    private byte[] _fixed = [];
    private byte[]?[] _bytes = [];
    private bool[] _has = [];

    public ValueStore(SqlType type)
    {
        if (!Supports(type)) throw new NotSupportedException($"no per-group values of {type}");
        _type = type;
        _width = IsBytes ? 0 : type.Kind == SqlTypeKind.Boolean ? 1 : Vectors.Width(type);
    }

    /// <summary>Flat types: nested values (lists, structs, maps) are not kept per group.</summary>
    public static bool Supports(SqlType type) => !type.IsNested && type.Kind != SqlTypeKind.Null;

    private bool IsBytes => _type.Kind is SqlTypeKind.Varchar or SqlTypeKind.Blob;

    public void Ensure(int groups)
    {
        if (_has.Length >= groups) return;
        int size = Math.Max(groups, Math.Max(16, _has.Length * 2));
        Array.Resize(ref _has, size);
        if (IsBytes) Array.Resize(ref _bytes, size);
        else Array.Resize(ref _fixed, size * _width);
    }

    public bool Has(int group) => group < _has.Length && _has[group];

    public void Clear(int group)
    {
        if (group >= _has.Length) return;
        _has[group] = false;
        if (IsBytes) _bytes[group] = null;
    }

    /// <summary>Keeps the (non-NULL) value at <paramref name="row"/> of <paramref name="array"/> for the group.</summary>
    public void Set(int group, IArrowArray array, int row)
    {
        _has[group] = true;
        if (IsBytes)
        {
            var value = ((BinaryArray)array).GetBytes(row);
            var current = _bytes[group];
            if (current is null || current.Length != value.Length) _bytes[group] = current = new byte[value.Length];
            value.CopyTo(current);
        }
        else if (_width == 1 && _type.Kind == SqlTypeKind.Boolean)
            _fixed[group] = ((BooleanArray)array).GetValue(row) == true ? (byte)1 : (byte)0;
        else
            Raw(array, row).CopyTo(_fixed.AsSpan(group * _width, _width));
    }

    public void Set(int group, ValueStore other, int from)
    {
        _has[group] = other._has[from];
        if (IsBytes) _bytes[group] = other._bytes[from] is { } b ? (byte[])b.Clone() : null;
        else other._fixed.AsSpan(from * _width, _width).CopyTo(_fixed.AsSpan(group * _width, _width));
    }

    /// <summary>The group's value against the value at <paramref name="row"/>: negative when the group's is smaller.</summary>
    public int Compare(int group, IArrowArray array, int row)
    {
        if (IsBytes) return _bytes[group].AsSpan().SequenceCompareTo(((BinaryArray)array).GetBytes(row));
        if (_type.Kind == SqlTypeKind.Boolean)
            return _fixed[group].CompareTo(((BooleanArray)array).GetValue(row) == true ? (byte)1 : (byte)0);
        return CompareFixed(_fixed.AsSpan(group * _width, _width), Raw(array, row));
    }

    public int Compare(int group, ValueStore other, int from)
    {
        if (IsBytes) return _bytes[group].AsSpan().SequenceCompareTo(other._bytes[from]);
        return CompareFixed(_fixed.AsSpan(group * _width, _width), other._fixed.AsSpan(from * _width, _width));
    }

    private ReadOnlySpan<byte> Raw(IArrowArray array, int row) =>
        array.Data.Buffers[1].Span.Slice((array.Data.Offset + row) * _width, _width);

    private int CompareFixed(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => _type.Kind switch
    {
        SqlTypeKind.Boolean => a[0].CompareTo(b[0]),
        SqlTypeKind.Integer or SqlTypeKind.Date => Read<int>(a).CompareTo(Read<int>(b)),
        SqlTypeKind.BigInt or SqlTypeKind.Time or SqlTypeKind.Timestamp or SqlTypeKind.TimestampTz => Read<long>(a).CompareTo(Read<long>(b)),
        SqlTypeKind.Real => OrderDouble.Compare(Read<float>(a), Read<float>(b)),
        SqlTypeKind.Double => OrderDouble.Compare(Read<double>(a), Read<double>(b)),
        SqlTypeKind.Decimal => Read<Int128>(a).CompareTo(Read<Int128>(b)),
        SqlTypeKind.Interval => OrderInterval.Compare(Read<IntervalValue>(a), Read<IntervalValue>(b)),
        _ => a.SequenceCompareTo(b),
    };

    private static T Read<T>(ReadOnlySpan<byte> bytes) where T : unmanaged => MemoryMarshal.Read<T>(bytes);

    /// <summary>The values of <paramref name="groups"/> as one array (NULL where a group has none).</summary>
    public IArrowArray Build(ReadOnlySpan<int> groups)
    {
        int n = groups.Length;
        var validity = new byte[(n + 7) / 8];
        if (IsBytes)
        {
            var builder = new Utf8Builder(n, 16);
            foreach (int g in groups)
                if (Has(g)) builder.Append(_bytes[g]!);
                else builder.AppendNull();
            return builder.Build(binary: _type.Kind == SqlTypeKind.Blob);
        }
        if (_type.Kind == SqlTypeKind.Boolean)
        {
            var bits = new byte[(n + 7) / 8];
            for (int i = 0; i < n; i++)
            {
                if (!Has(groups[i])) continue;
                Vectors.Set(validity, i);
                if (_fixed[groups[i]] != 0) Vectors.Set(bits, i);
            }
            return Vectors.Boolean(bits, validity, n);
        }
        var values = new byte[n * _width];
        for (int i = 0; i < n; i++)
        {
            if (!Has(groups[i])) continue;
            Vectors.Set(validity, i);
            _fixed.AsSpan(groups[i] * _width, _width).CopyTo(values.AsSpan(i * _width));
        }
        return Vectors.Fixed(_type, values, validity, n);
    }

    public void Write(BinaryWriter writer, int groups)
    {
        for (int g = 0; g < groups; g++)
        {
            bool has = Has(g);
            writer.Write(has);
            if (!has) continue;
            if (IsBytes) { writer.Write(_bytes[g]!.Length); writer.Write(_bytes[g]!); }
            else writer.Write(_fixed, g * _width, _width);
        }
    }

    public void Read(BinaryReader reader, int groups)
    {
        Ensure(groups);
        for (int g = 0; g < groups; g++)
        {
            _has[g] = reader.ReadBoolean();
            if (!_has[g]) continue;
            if (IsBytes) _bytes[g] = reader.ReadBytes(reader.ReadInt32());
            else reader.ReadBytes(_width).CopyTo(_fixed, g * _width);
        }
    }
}
