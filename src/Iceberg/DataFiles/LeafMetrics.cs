using System.Numerics;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Types;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// Value, null and NaN counts and lower/upper bounds of one primitive column, folded batch by batch straight from
/// the Arrow buffers (no value is boxed or copied per record). Bounds are serialized once, when the file closes,
/// in the spec's single-value binary form (Appendix D).
/// </summary>
internal abstract class LeafMetrics(int fieldId, bool trackBounds)
{
    public int FieldId { get; } = fieldId;
    public long ValueCount { get; private set; }
    public long NullCount { get; private set; }
    public virtual long? NanCount => null;
    protected bool TrackBounds { get; } = trackBounds;
    protected bool HasBounds { get; set; }

    /// <summary>Folds the rows of <paramref name="array"/>; a row is null when the array or an enclosing struct says so.</summary>
    public void Add(IArrowArray array, ReadOnlySpan<bool> ancestorNull)
    {
        ValueCount += array.Length;
        if (ancestorNull.IsEmpty && array.NullCount == 0)
        {
            Fold(array, ReadOnlySpan<bool>.Empty);
            return;
        }
        using var nulls = new NullMask(array, ancestorNull);
        NullCount += nulls.Count;
        Fold(array, nulls.Span);
    }

    public void Reset()
    {
        ValueCount = 0;
        NullCount = 0;
        HasBounds = false;
        ResetValues();
    }

    /// <summary>Folds the values of the rows that are not null (<paramref name="nulls"/> is empty when none is).</summary>
    protected abstract void Fold(IArrowArray array, ReadOnlySpan<bool> nulls);
    protected virtual void ResetValues() { }
    public abstract byte[]? LowerBound();
    public abstract byte[]? UpperBound();

    public static LeafMetrics For(NestedField field, bool repeated, int truncateLength)
    {
        var type = (PrimitiveType)field.Type;
        // Bounds of values inside lists and maps say little about rows; Iceberg keeps counts only for them.
        bool bounds = !repeated;
        int id = field.Id;
        return type switch
        {
            // Arrow's decimal128 holds the unscaled value as 16 little-endian bytes; the spec's bound is its minimal
            // big-endian two's complement.
            DecimalType => new Ordered<Int128>(id, bounds, v => new DecimalValue(v, 0).ToBigEndianBytes()),
            FixedType => new Bytes(id, bounds, truncateLength, isString: false),
            _ => type.TypeId switch
            {
                TypeId.Boolean => new Boolean(id, bounds),
                TypeId.Int or TypeId.Date => new Ordered<int>(id, bounds, LittleEndian),
                TypeId.Long or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz => new Ordered<long>(id, bounds, LittleEndian),
                TypeId.Float => new Ordered<float>(id, bounds, LittleEndian),
                TypeId.Double => new Ordered<double>(id, bounds, LittleEndian),
                TypeId.String => new Bytes(id, bounds, truncateLength, isString: true),
                TypeId.Binary => new Bytes(id, bounds, truncateLength, isString: false),
                TypeId.Uuid => new Bytes(id, bounds, int.MaxValue, isString: false),
                _ => throw new NotSupportedException($"No metrics for type {type}."),
            },
        };
    }

    /// <summary>The spec's bound of int, long, float and double (and the types stored as them): little-endian bytes.</summary>
    private static byte[] LittleEndian<T>(T value) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();
        if (!BitConverter.IsLittleEndian) bytes.AsSpan().Reverse();
        return bytes;
    }

    /// <summary>
    /// Every fixed-width numeric column (int, long, date, time, timestamp, float, double, decimal), folded in one typed
    /// loop over the Arrow value buffer. Floating-point columns count NaNs and keep them out of the bounds.
    /// </summary>
    private sealed class Ordered<T>(int id, bool bounds, Func<T, byte[]> serialize) : LeafMetrics(id, bounds)
        where T : unmanaged, INumber<T>
    {
        private static readonly bool Floating = typeof(T) == typeof(float) || typeof(T) == typeof(double);

        private T _min, _max;
        private long _nans;

        public override long? NanCount => Floating ? _nans : null;

        protected override void Fold(IArrowArray array, ReadOnlySpan<bool> nulls)
        {
            if (!TrackBounds && !Floating) return;
            var values = MemoryMarshal.Cast<byte, T>(array.Data.Buffers[1].Span).Slice(array.Data.Offset, array.Length);
            bool has = HasBounds;
            T min = _min, max = _max;
            long nans = 0;
            for (int i = 0; i < values.Length; i++)
            {
                if (!nulls.IsEmpty && nulls[i]) continue;
                var v = values[i];
                if (T.IsNaN(v)) { nans++; continue; }
                if (!has) { min = max = v; has = true; continue; }
                if (v < min) min = v;
                if (v > max) max = v;
            }
            _nans += nans;
            if (TrackBounds) (_min, _max, HasBounds) = (min, max, has);
        }

        protected override void ResetValues() => _nans = 0;
        public override byte[]? LowerBound() => HasBounds ? serialize(_min) : null;
        public override byte[]? UpperBound() => HasBounds ? serialize(_max) : null;
    }

    private sealed class Boolean(int id, bool bounds) : LeafMetrics(id, bounds)
    {
        private bool _min, _max;

        protected override void Fold(IArrowArray array, ReadOnlySpan<bool> nulls)
        {
            if (!TrackBounds) return;
            var booleans = (BooleanArray)array;
            for (int i = 0; i < booleans.Length; i++)
            {
                if (!nulls.IsEmpty && nulls[i]) continue;
                bool v = booleans.GetValue(i) == true;
                if (!HasBounds) { _min = _max = v; HasBounds = true; continue; }
                _min &= v;
                _max |= v;
            }
        }

        public override byte[]? LowerBound() => HasBounds ? [_min ? (byte)1 : (byte)0] : null;
        public override byte[]? UpperBound() => HasBounds ? [_max ? (byte)1 : (byte)0] : null;
    }

    /// <summary>Strings (UTF-8, compared bytewise, which is code point order), binary, fixed and uuid.</summary>
    private sealed class Bytes(int id, bool bounds, int truncateLength, bool isString) : LeafMetrics(id, bounds)
    {
        private byte[] _min = new byte[64], _max = new byte[64];
        private int _minLength, _maxLength;

        protected override void Fold(IArrowArray array, ReadOnlySpan<bool> nulls)
        {
            if (!TrackBounds) return;
            if (array is BinaryArray b)
            {
                // Straight from the offsets: GetBytes checks and rebuilds a span per row.
                var offsets = b.ValueOffsets;
                var data = b.ValueBuffer.Span;
                for (int i = 0; i < b.Length; i++)
                    if (nulls.IsEmpty || !nulls[i]) Fold(data[offsets[i]..offsets[i + 1]]);
                return;
            }
            var f = (FixedSizeBinaryArray)array;
            for (int i = 0; i < f.Length; i++)
                if (nulls.IsEmpty || !nulls[i]) Fold(f.GetBytes(i));
        }

        private void Fold(ReadOnlySpan<byte> v)
        {
            if (!HasBounds)
            {
                Keep(ref _min, ref _minLength, v);
                Keep(ref _max, ref _maxLength, v);
                HasBounds = true;
                return;
            }
            if (v.SequenceCompareTo(_min.AsSpan(0, _minLength)) < 0) Keep(ref _min, ref _minLength, v);
            else if (v.SequenceCompareTo(_max.AsSpan(0, _maxLength)) > 0) Keep(ref _max, ref _maxLength, v);
        }

        private static void Keep(ref byte[] buffer, ref int length, ReadOnlySpan<byte> value)
        {
            if (value.Length > buffer.Length)
                buffer = new byte[Math.Max(value.Length, buffer.Length * 2)];
            value.CopyTo(buffer);
            length = value.Length;
        }

        public override byte[]? LowerBound()
        {
            if (!HasBounds) return null;
            var v = _min.AsSpan(0, _minLength);
            return isString ? BoundTruncation.StringLower(v, truncateLength) : BoundTruncation.BinaryLower(v, truncateLength);
        }

        public override byte[]? UpperBound()
        {
            if (!HasBounds) return null;
            var v = _max.AsSpan(0, _maxLength);
            return isString ? BoundTruncation.StringUpper(v, truncateLength) : BoundTruncation.BinaryUpper(v, truncateLength);
        }
    }
}
