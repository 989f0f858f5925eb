using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>
/// Applies a transform to a whole Arrow column at once, straight from its typed buffers, into 64-bit keys (no value is
/// boxed per row): every transform of int, long, date, time and timestamp columns, and bucket[N] of every type.
/// A key is the transform's result (an int, or the long of an identity/truncate of a long column); see
/// <see cref="Value"/> for the partition value it stands for. Results equal <see cref="Transform.Apply"/>'s.
/// </summary>
internal static class ColumnTransform
{
    private const long MicrosPerDay = 86_400_000_000L;
    private const long MicrosPerHour = 3_600_000_000L;
    private static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    /// <summary>Whether <see cref="Apply"/> handles this transform of an Arrow column of this type.</summary>
    public static bool Supports(Transform t, IArrowArray array) => t.Kind switch
    {
        TransformKind.Void => true,
        TransformKind.Bucket => array is Int32Array or Date32Array or Int64Array or TimestampArray or Time64Array
            or StringArray or BinaryArray or FixedSizeBinaryArray or Decimal128Array,
        TransformKind.Identity or TransformKind.Truncate or TransformKind.Year or TransformKind.Month or TransformKind.Day or TransformKind.Hour =>
            array is Int32Array or Date32Array or Int64Array or TimestampArray or Time64Array,
        _ => false,
    };

    /// <summary>Fills keys[i] with the transform of row i, and nulls[i] with whether the result is null.</summary>
    public static void Apply(Transform t, PrimitiveType source, IArrowArray array, Span<long> keys, Span<bool> nulls)
    {
        int n = array.Length;
        for (int i = 0; i < n; i++) nulls[i] = array.IsNull(i);
        if (t.Kind == TransformKind.Void)
        {
            nulls[..n].Fill(true);
            return;
        }
        if (t.Kind == TransformKind.Bucket)
        {
            Bucket(t.Parameter, array, keys, nulls);
            return;
        }
        switch (array)
        {
            case Int32Array a: Integral(t, source, a.Values, keys); break;
            case Date32Array a: Integral(t, source, a.Values, keys); break;
            case Int64Array a: Integral(t, source, a.Values, keys); break;
            case TimestampArray a: Integral(t, source, a.Values, keys); break;
            case Time64Array a: Integral(t, source, a.Values, keys); break;
            default: throw new NotSupportedException($"{t} of an Arrow {array.Data.DataType.Name} column is not applied column-wise.");
        }
    }

    /// <summary>The partition value a key stands for (boxed once per partition, not per row).</summary>
    public static object Value(Transform t, PrimitiveType source, long key) =>
        t.Kind is TransformKind.Identity or TransformKind.Truncate && source.TypeId is TypeId.Long or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz
            ? (object)key
            : (object)(int)key;

    private static void Integral<T>(Transform t, PrimitiveType source, ReadOnlySpan<T> values, Span<long> keys) where T : struct, System.Numerics.IBinaryInteger<T>
    {
        bool isDate = source.TypeId == TypeId.Date;
        long w = t.Parameter;
        for (int i = 0; i < values.Length; i++)
        {
            long v = long.CreateTruncating(values[i]);
            keys[i] = t.Kind switch
            {
                TransformKind.Identity => v,
                TransformKind.Truncate => v - (((v % w) + w) % w),
                TransformKind.Day => isDate ? v : FloorDiv(v, MicrosPerDay),
                TransformKind.Year => DateOnly.FromDayNumber(EpochDayNumber + (int)(isDate ? v : FloorDiv(v, MicrosPerDay))).Year - 1970,
                TransformKind.Month => Months(isDate ? v : FloorDiv(v, MicrosPerDay)),
                TransformKind.Hour => FloorDiv(v, MicrosPerHour),
                _ => throw new NotSupportedException(t.ToString()),
            };
        }
    }

    private static long Months(long days)
    {
        var d = DateOnly.FromDayNumber(EpochDayNumber + (int)days);
        return (d.Year - 1970) * 12 + d.Month - 1;
    }

    private static void Bucket(int buckets, IArrowArray array, Span<long> keys, ReadOnlySpan<bool> nulls)
    {
        for (int i = 0; i < array.Length; i++)
        {
            if (nulls[i]) continue;
            int hash = Murmur3.HashValue(array, i);
            keys[i] = (hash & int.MaxValue) % buckets;
        }
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
