using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Catalog.Types;

namespace DataPlane.Catalog.DataFiles;

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
            if (TrackBounds || this is Floating)
                FoldAll(array);
            return;
        }
        for (int i = 0; i < array.Length; i++)
        {
            if ((!ancestorNull.IsEmpty && ancestorNull[i]) || array.IsNull(i))
                NullCount++;
            else if (TrackBounds || this is Floating)
                Fold(array, i);
        }
    }

    /// <summary>The common case, a column without nulls, folded over the value buffer in one typed loop.</summary>
    protected virtual void FoldAll(IArrowArray array)
    {
        for (int i = 0; i < array.Length; i++)
            Fold(array, i);
    }

    public void Reset()
    {
        ValueCount = 0;
        NullCount = 0;
        HasBounds = false;
        ResetValues();
    }

    protected abstract void Fold(IArrowArray array, int index);
    protected virtual void ResetValues() { }
    public abstract byte[]? LowerBound();
    public abstract byte[]? UpperBound();

    /// <summary>Floating-point columns count NaNs and keep them out of the bounds.</summary>
    private interface Floating;

    public static LeafMetrics For(NestedField field, bool repeated, int truncateLength)
    {
        var type = (PrimitiveType)field.Type;
        // Bounds of values inside lists and maps say little about rows; Iceberg keeps counts only for them.
        bool bounds = !repeated;
        return type switch
        {
            DecimalType => new Decimal(field.Id, bounds),
            FixedType => new Bytes(field.Id, bounds, truncateLength, isString: false),
            _ => type.TypeId switch
            {
                TypeId.Boolean => new Boolean(field.Id, bounds),
                TypeId.Int or TypeId.Date => new Int32(field.Id, bounds),
                TypeId.Long or TypeId.Time or TypeId.Timestamp or TypeId.TimestampTz => new Int64(field.Id, bounds),
                TypeId.Float => new Single(field.Id, bounds),
                TypeId.Double => new Double(field.Id, bounds),
                TypeId.String => new Bytes(field.Id, bounds, truncateLength, isString: true),
                TypeId.Binary => new Bytes(field.Id, bounds, truncateLength, isString: false),
                TypeId.Uuid => new Bytes(field.Id, bounds, int.MaxValue, isString: false),
                _ => throw new NotSupportedException($"No metrics for type {type}."),
            },
        };
    }

    private sealed class Boolean(int id, bool bounds) : LeafMetrics(id, bounds)
    {
        private bool _min, _max;

        protected override void Fold(IArrowArray array, int index)
        {
            bool v = ((BooleanArray)array).GetValue(index) == true;
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            _min &= v;
            _max |= v;
        }

        public override byte[]? LowerBound() => HasBounds ? [_min ? (byte)1 : (byte)0] : null;
        public override byte[]? UpperBound() => HasBounds ? [_max ? (byte)1 : (byte)0] : null;
    }

    private sealed class Int32(int id, bool bounds) : LeafMetrics(id, bounds)
    {
        private int _min, _max;

        protected override void Fold(IArrowArray array, int index)
        {
            int v = ((PrimitiveArray<int>)array).Values[index];
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }

        protected override void FoldAll(IArrowArray array)
        {
            var values = ((PrimitiveArray<int>)array).Values;
            if (values.IsEmpty) return;
            int min = HasBounds ? _min : values[0], max = HasBounds ? _max : values[0];
            foreach (var v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            (_min, _max, HasBounds) = (min, max, true);
        }

        public override byte[]? LowerBound() => HasBounds ? Le(_min) : null;
        public override byte[]? UpperBound() => HasBounds ? Le(_max) : null;
        private static byte[] Le(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; }
    }

    private sealed class Int64(int id, bool bounds) : LeafMetrics(id, bounds)
    {
        private long _min, _max;

        protected override void Fold(IArrowArray array, int index)
        {
            long v = ((PrimitiveArray<long>)array).Values[index];
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }

        protected override void FoldAll(IArrowArray array)
        {
            var values = ((PrimitiveArray<long>)array).Values;
            if (values.IsEmpty) return;
            long min = HasBounds ? _min : values[0], max = HasBounds ? _max : values[0];
            foreach (var v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            (_min, _max, HasBounds) = (min, max, true);
        }

        public override byte[]? LowerBound() => HasBounds ? Le(_min) : null;
        public override byte[]? UpperBound() => HasBounds ? Le(_max) : null;
        private static byte[] Le(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return b; }
    }

    private sealed class Single(int id, bool bounds) : LeafMetrics(id, bounds), Floating
    {
        private float _min, _max;
        private long _nans;
        public override long? NanCount => _nans;

        protected override void Fold(IArrowArray array, int index)
        {
            float v = ((FloatArray)array).Values[index];
            if (float.IsNaN(v)) { _nans++; return; }
            if (!TrackBounds) return;
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }

        protected override void ResetValues() => _nans = 0;
        public override byte[]? LowerBound() => HasBounds ? Le(_min) : null;
        public override byte[]? UpperBound() => HasBounds ? Le(_max) : null;
        private static byte[] Le(float v) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return b; }
    }

    private sealed class Double(int id, bool bounds) : LeafMetrics(id, bounds), Floating
    {
        private double _min, _max;
        private long _nans;
        public override long? NanCount => _nans;

        protected override void Fold(IArrowArray array, int index)
        {
            double v = ((DoubleArray)array).Values[index];
            if (double.IsNaN(v)) { _nans++; return; }
            if (!TrackBounds) return;
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }

        protected override void FoldAll(IArrowArray array)
        {
            var values = ((DoubleArray)array).Values;
            bool has = HasBounds;
            double min = _min, max = _max;
            long nans = 0;
            foreach (var v in values)
            {
                if (double.IsNaN(v)) { nans++; continue; }
                if (!has) { min = max = v; has = true; continue; }
                if (v < min) min = v;
                if (v > max) max = v;
            }
            _nans += nans;
            if (TrackBounds) (_min, _max, HasBounds) = (min, max, has);
        }

        protected override void ResetValues() => _nans = 0;
        public override byte[]? LowerBound() => HasBounds ? Le(_min) : null;
        public override byte[]? UpperBound() => HasBounds ? Le(_max) : null;
        private static byte[] Le(double v) { var b = new byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); return b; }
    }

    /// <summary>Decimals arrive as Arrow decimal128 (16-byte little-endian two's complement unscaled values).</summary>
    private sealed class Decimal(int id, bool bounds) : LeafMetrics(id, bounds)
    {
        private Int128 _min, _max;

        protected override void Fold(IArrowArray array, int index)
        {
            var d = (Decimal128Array)array;
            var v = BinaryPrimitives.ReadInt128LittleEndian(d.ValueBuffer.Span.Slice((d.Offset + index) * 16, 16));
            if (!HasBounds) { _min = _max = v; HasBounds = true; return; }
            if (v < _min) _min = v;
            if (v > _max) _max = v;
        }

        // The spec's decimal bound: the unscaled value as minimal big-endian two's complement.
        public override byte[]? LowerBound() => HasBounds ? new DecimalValue(_min, 0).ToBigEndianBytes() : null;
        public override byte[]? UpperBound() => HasBounds ? new DecimalValue(_max, 0).ToBigEndianBytes() : null;
    }

    /// <summary>Strings (UTF-8, compared bytewise, which is code point order), binary, fixed and uuid.</summary>
    private sealed class Bytes(int id, bool bounds, int truncateLength, bool isString) : LeafMetrics(id, bounds)
    {
        private byte[] _min = new byte[64], _max = new byte[64];
        private int _minLength, _maxLength;

        protected override void Fold(IArrowArray array, int index)
        {
            var v = array switch
            {
                BinaryArray b => b.GetBytes(index),
                FixedSizeBinaryArray f => f.GetBytes(index),
                _ => throw new NotSupportedException(array.GetType().Name),
            };
            if (!HasBounds)
            {
                Keep(ref _min, ref _minLength, v);
                Keep(ref _max, ref _maxLength, v);
                HasBounds = true;
                return;
            }
            if (v.SequenceCompareTo(_min.AsSpan(0, _minLength)) < 0) Keep(ref _min, ref _minLength, v);
            if (v.SequenceCompareTo(_max.AsSpan(0, _maxLength)) > 0) Keep(ref _max, ref _maxLength, v);
        }

        protected override void FoldAll(IArrowArray array)
        {
            if (array is not BinaryArray b)
            {
                base.FoldAll(array);
                return;
            }
            var offsets = b.ValueOffsets;
            var data = b.ValueBuffer.Span;
            int first = offsets[0];
            if (!HasBounds && b.Length > 0)
            {
                var v0 = data.Slice(first, offsets[1] - first);
                Keep(ref _min, ref _minLength, v0);
                Keep(ref _max, ref _maxLength, v0);
                HasBounds = true;
            }
            var min = _min.AsSpan(0, _minLength);
            var max = _max.AsSpan(0, _maxLength);
            for (int i = 0; i < b.Length; i++)
            {
                var v = data.Slice(offsets[i], offsets[i + 1] - offsets[i]);
                if (v.SequenceCompareTo(min) < 0) { Keep(ref _min, ref _minLength, v); min = _min.AsSpan(0, _minLength); }
                else if (v.SequenceCompareTo(max) > 0) { Keep(ref _max, ref _maxLength, v); max = _max.AsSpan(0, _maxLength); }
            }
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
