using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Partitioning;
using DataPlane.Iceberg.Types;
using Schema = DataPlane.Iceberg.Schemas.Schema;

namespace DataPlane.Iceberg.Sorting;

/// <summary>
/// Each row's sort key as bytes whose unsigned lexicographic order is the row order (a "normalized key"), computed a
/// column at a time from the typed buffers, so sorting and merging compare byte spans and never box a value.
/// <list type="bullet">
/// <item>A sort order: per field a null byte (0 before values, 2 after them) then the transformed value: integers, dates,
/// times and timestamps as 8 big-endian bytes with the sign bit flipped, floats as doubles with the IEEE-754 trick
/// (-NaN &lt; -Infinity &lt; ... &lt; -0 &lt; 0 &lt; ... &lt; Infinity &lt; NaN, the spec's order), decimals as 16 bytes, strings and
/// binary with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x00 (so a key is never another's prefix), fixed and uuid as
/// their bytes; descending inverts the value's bytes.</item>
/// <item>A z-order: each column's value as 8 order-preserving bytes (as above; strings and binary by their first 8 bytes,
/// nulls as zeros, as Iceberg's <c>ZOrderByteUtils</c> does), their bits interleaved, most significant first.</item>
/// </list>
/// </summary>
internal sealed class SortKeys
{
    private readonly Key[] _keys;
    private readonly bool _zOrder;

    /// <summary>One key column: the path of names from the top-level column down to it, its type and its part of the order.</summary>
    private sealed record Key(string[] Path, PrimitiveType Type, Transform Transform, bool Descending, bool NullsFirst);

    public SortKeys(RowOrder order, Schema schema)
    {
        _zOrder = order.IsZOrder;
        _keys = order.IsZOrder
            ? order.ZOrderIds.Select(id => new Key(PathOf(schema, id), (PrimitiveType)schema.Field(id).Type, Transform.Identity, false, true)).ToArray()
            : order.SortOrder!.Fields.Select(f => new Key(PathOf(schema, f.SourceId), (PrimitiveType)schema.Field(f.SourceId).Type, f.Transform,
                f.Direction == SortDirection.Desc, f.NullOrder == NullOrder.NullsFirst)).ToArray();
    }

    private static string[] PathOf(Schema schema, int id)
    {
        var path = new List<string> { schema.Field(id).Name };
        for (var parent = schema.ParentId(id); parent is { } p; parent = schema.ParentId(p))
            path.Insert(0, schema.Field(p).Name);
        return [.. path];
    }

    /// <summary>The keys of a batch's rows.</summary>
    public Keys Compute(RecordBatch batch)
    {
        int n = batch.Length;
        var writer = new KeyWriter(n, _zOrder ? 8 * _keys.Length : 9 * _keys.Length);
        var nulls = new bool[n];
        if (_zOrder)
        {
            var columns = new ulong[_keys.Length][];
            for (int k = 0; k < _keys.Length; k++)
            {
                columns[k] = new ulong[n];
                ZValues(Resolve(batch, _keys[k], nulls), _keys[k].Type, nulls, columns[k]);
            }
            for (int row = 0; row < n; row++)
            {
                Interleave(columns, row, writer.Reserve(8 * columns.Length));
                writer.EndRow();
            }
            return writer.ToKeys();
        }
        var encoders = new FieldEncoder[_keys.Length];
        for (int k = 0; k < _keys.Length; k++)
        {
            var array = Resolve(batch, _keys[k], nulls);
            encoders[k] = new FieldEncoder(_keys[k], array, (bool[])nulls.Clone());
        }
        for (int row = 0; row < n; row++)
        {
            foreach (var encoder in encoders)
                encoder.Write(ref writer, row);
            writer.EndRow();
        }
        return writer.ToKeys();
    }

    /// <summary>The key column's array aligned with the batch's rows; <paramref name="nulls"/>[i] says whether row i's value
    /// (or a struct holding it) is null.</summary>
    private static IArrowArray Resolve(RecordBatch batch, Key key, bool[] nulls)
    {
        int index = batch.Schema.GetFieldIndex(key.Path[0]);
        if (index < 0) throw new ArgumentException($"Sort column '{key.Path[0]}' is not among the batch's columns.");
        IArrowArray array = batch.Column(index);
        System.Array.Clear(nulls);
        for (int level = 1; ; level++)
        {
            for (int i = 0; i < array.Length; i++)
                nulls[i] |= array.IsNull(i);
            if (level == key.Path.Length) return array;
            var structArray = (StructArray)array;
            var type = (Apache.Arrow.Types.StructType)structArray.Data.DataType;
            int child = type.GetFieldIndex(key.Path[level]);
            // A struct's children are not sliced with it: its offset applies to them.
            array = ArrowArrayFactory.Slice(structArray.Fields[child], structArray.Offset, structArray.Length);
        }
    }

    /// <summary>A key column's bytes of one row.</summary>
    private sealed class FieldEncoder
    {
        private readonly Key _key;
        private readonly IArrowArray _array;
        private readonly bool[] _nulls;
        private readonly long[]? _longs;

        public FieldEncoder(Key key, IArrowArray array, bool[] nulls)
        {
            _key = key;
            _array = array;
            _nulls = nulls;
            if (ColumnTransform.Supports(key.Transform, array))
            {
                _longs = new long[array.Length];
                var transformNulls = new bool[array.Length];
                ColumnTransform.Apply(key.Transform, key.Type, array, _longs, transformNulls);
                for (int i = 0; i < nulls.Length; i++) nulls[i] |= transformNulls[i];
            }
            else if (key.Transform.Kind is not (TransformKind.Identity or TransformKind.Truncate))
                throw new NotSupportedException($"Sorting by {key.Transform} of a {key.Type} column is not supported.");
        }

        public void Write(ref KeyWriter w, int row)
        {
            if (_nulls[row])
            {
                w.Reserve(1)[0] = _key.NullsFirst ? (byte)0 : (byte)2;
                return;
            }
            w.Reserve(1)[0] = 1;
            int start = w.Position;
            if (_longs is not null)
                BinaryPrimitives.WriteUInt64BigEndian(w.Reserve(8), (ulong)(_longs[row] ^ long.MinValue));
            else
            {
                int width = _key.Transform.Kind == TransformKind.Truncate ? _key.Transform.Parameter : int.MaxValue;
                switch (_array)
                {
                    case BooleanArray a: w.Reserve(1)[0] = a.GetValue(row) == true ? (byte)1 : (byte)0; break;
                    case FloatArray a: BinaryPrimitives.WriteUInt64BigEndian(w.Reserve(8), OrderedDouble(a.Values[row])); break;
                    case DoubleArray a: BinaryPrimitives.WriteUInt64BigEndian(w.Reserve(8), OrderedDouble(a.Values[row])); break;
                    case Decimal128Array a:
                    {
                        var unscaled = BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + row) * 16, 16));
                        if (width != int.MaxValue) unscaled = Transform.TruncateUnscaled(unscaled, width);
                        BinaryPrimitives.WriteUInt128BigEndian(w.Reserve(16), (UInt128)(unscaled ^ Int128.MinValue));
                        break;
                    }
                    case StringArray a: Escaped(ref w, Utf8Prefix(a.GetBytes(row), width)); break;
                    case BinaryArray a:
                    {
                        var bytes = a.GetBytes(row);
                        Escaped(ref w, bytes.Length <= width ? bytes : bytes[..width]);
                        break;
                    }
                    case FixedSizeBinaryArray a: a.GetBytes(row).CopyTo(w.Reserve(a.GetBytes(row).Length)); break;
                    default: throw new NotSupportedException($"Sorting by a column of Arrow type {_array.Data.DataType.Name} is not supported.");
                }
            }
            if (_key.Descending)
                foreach (ref var b in w.Written(start))
                    b = (byte)~b;
        }

        /// <summary>The first <paramref name="codePoints"/> code points of UTF-8 text (a continuation byte starts none).</summary>
        private static ReadOnlySpan<byte> Utf8Prefix(ReadOnlySpan<byte> utf8, int codePoints)
        {
            if (codePoints >= utf8.Length) return utf8;
            int points = 0;
            for (int i = 0; i < utf8.Length; i++)
                if ((utf8[i] & 0xC0) != 0x80 && points++ == codePoints)
                    return utf8[..i];
            return utf8;
        }

        private static void Escaped(ref KeyWriter w, ReadOnlySpan<byte> bytes)
        {
            int zeros = 0;
            foreach (var b in bytes)
                if (b == 0) zeros++;
            var target = w.Reserve(bytes.Length + zeros + 2);
            int j = 0;
            foreach (var b in bytes)
            {
                target[j++] = b;
                if (b == 0) target[j++] = 0xFF;
            }
            target[j] = 0;
            target[j + 1] = 0;
        }
    }

    /// <summary>A double's bits reordered so that unsigned comparison is the spec's order of floating-point values.</summary>
    private static ulong OrderedDouble(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        return (ulong)(bits ^ ((bits >> 63) | long.MinValue));
    }

    /// <summary>Each row's value of a z-order column as 8 order-preserving bytes (in a ulong, most significant first).</summary>
    private static void ZValues(IArrowArray array, PrimitiveType type, bool[] nulls, ulong[] values)
    {
        int n = array.Length;
        if (ColumnTransform.Supports(Transform.Identity, array))
        {
            var longs = new long[n];
            ColumnTransform.Apply(Transform.Identity, type, array, longs, new bool[n]);
            for (int i = 0; i < n; i++) values[i] = (ulong)(longs[i] ^ long.MinValue);
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                if (nulls[i]) continue;
                values[i] = array switch
                {
                    BooleanArray a => a.GetValue(i) == true ? 1UL << 56 : 0,
                    FloatArray a => OrderedDouble(a.Values[i]),
                    DoubleArray a => OrderedDouble(a.Values[i]),
                    // Beyond the range of a long a decimal is clamped: the order is kept, the resolution lost.
                    Decimal128Array a => (ulong)((long)Int128.Clamp(BinaryPrimitives.ReadInt128LittleEndian(a.ValueBuffer.Span.Slice((a.Offset + i) * 16, 16)),
                        long.MinValue, long.MaxValue) ^ long.MinValue),
                    StringArray a => Prefix(a.GetBytes(i)),
                    BinaryArray a => Prefix(a.GetBytes(i)),
                    FixedSizeBinaryArray a => Prefix(a.GetBytes(i)),
                    _ => throw new NotSupportedException($"Z-ordering by a column of Arrow type {array.Data.DataType.Name} is not supported."),
                };
            }
        }
        for (int i = 0; i < n; i++)
            if (nulls[i]) values[i] = 0;
    }

    private static ulong Prefix(ReadOnlySpan<byte> bytes)
    {
        Span<byte> eight = stackalloc byte[8];
        eight.Clear();
        bytes[..Math.Min(8, bytes.Length)].CopyTo(eight);
        return BinaryPrimitives.ReadUInt64BigEndian(eight);
    }

    /// <summary>Row <paramref name="row"/>'s z-value: bit 63 of each column in turn, then bit 62, and so on.</summary>
    private static void Interleave(ulong[][] columns, int row, Span<byte> target)
    {
        ulong word = 0;
        int bits = 0, at = 0;
        for (int bit = 63; bit >= 0; bit--)
        {
            foreach (var column in columns)
            {
                word = (word << 1) | ((column[row] >> bit) & 1);
                if (++bits == 64)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(target[at..], word);
                    at += 8;
                    word = 0;
                    bits = 0;
                }
            }
        }
    }

    /// <summary>Keys appended row after row into one buffer.</summary>
    private struct KeyWriter(int rows, int bytesPerRow)
    {
        private byte[] _bytes = new byte[Math.Max(16, rows * bytesPerRow)];
        private readonly int[] _offsets = new int[rows + 1];
        private int _row;

        public int Position { get; private set; }

        public Span<byte> Reserve(int count)
        {
            if (Position + count > _bytes.Length)
            {
                long size = Math.Max((long)_bytes.Length * 2, (long)Position + count);
                if (size > System.Array.MaxLength) throw new InvalidOperationException("The sort keys of one batch exceed 2 GB; sort with a smaller memory budget.");
                System.Array.Resize(ref _bytes, (int)size);
            }
            var span = _bytes.AsSpan(Position, count);
            Position += count;
            return span;
        }

        public readonly Span<byte> Written(int start) => _bytes.AsSpan(start, Position - start);

        public void EndRow() => _offsets[++_row] = Position;

        public readonly Keys ToKeys() => new(_bytes, _offsets);
    }
}

/// <summary>The sort keys of a batch's rows: row i's key is <c>Bytes[Offsets[i]..Offsets[i + 1]]</c>.</summary>
internal readonly struct Keys(byte[] bytes, int[] offsets)
{
    public ReadOnlySpan<byte> this[int row] => bytes.AsSpan(offsets[row], offsets[row + 1] - offsets[row]);

    public int Compare(int a, int b) => this[a].SequenceCompareTo(this[b]);

    public static int Compare(in Keys x, int a, in Keys y, int b) => x[a].SequenceCompareTo(y[b]);
}
