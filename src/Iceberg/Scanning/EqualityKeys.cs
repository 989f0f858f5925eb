using System.Buffers;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Arrays;
using DataPlane.Iceberg.Partitioning;

namespace DataPlane.Iceberg.Scanning;

/// <summary>
/// The equality columns of one batch, read a column at a time into the form rows are compared in: integers of every
/// width (int, long, date, time, timestamp) as a long, so that a delete file written before an int column became long
/// still matches; float and double as the double's bits (NaN made canonical); booleans as 0/1; strings, binary, fixed,
/// uuid and decimals by their bytes, straight from the Arrow buffers. Null equals null, as equality deletes require.
/// </summary>
internal sealed class EqualityKeys : IDisposable
{
    private const ulong NullHash = 0x5bd1e995UL;
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    private readonly int _rows;
    private readonly long[] _words;
    private readonly bool[] _nulls;
    private readonly IArrowArray?[] _bytes;

    public EqualityKeys(IReadOnlyList<IArrowArray> columns, IReadOnlyList<string> names)
    {
        _rows = columns.Count == 0 ? 0 : columns[0].Length;
        _words = ArrayPool<long>.Shared.Rent(columns.Count * _rows);
        _nulls = ArrayPool<bool>.Shared.Rent(columns.Count * _rows);
        _bytes = new IArrowArray?[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            var array = columns[c];
            var nulls = _nulls.AsSpan(c * _rows, _rows);
            for (int i = 0; i < _rows; i++) nulls[i] = array.IsNull(i);
            var words = _words.AsSpan(c * _rows, _rows);
            switch (array)
            {
                case Int32Array a: Widen(a.Values, words); break;
                case Int64Array a: Widen(a.Values, words); break;
                case Date32Array a: Widen(a.Values, words); break;
                case Time64Array a: Widen(a.Values, words); break;
                case TimestampArray a: Widen(a.Values, words); break;
                case FloatArray a:
                    for (int i = 0; i < _rows; i++) words[i] = DoubleBits(a.Values[i]);
                    break;
                case DoubleArray a:
                    for (int i = 0; i < _rows; i++) words[i] = DoubleBits(a.Values[i]);
                    break;
                case BooleanArray a:
                    for (int i = 0; i < _rows; i++) words[i] = a.GetValue(i) == true ? 1 : 0;
                    break;
                case BinaryArray or FixedSizeBinaryArray:
                    _bytes[c] = array;
                    break;
                default:
                    throw new NotSupportedException(
                        $"Equality deletes by column '{names[c]}' of Arrow type {array.Data.DataType.Name} are not supported; " +
                        "valid are integer, date, time, timestamp, float, double, boolean, string, binary, fixed, uuid and decimal columns.");
            }
        }
    }

    public int Length => _rows;

    public ulong Hash(int row)
    {
        ulong h = 0;
        for (int c = 0, i = row; c < _bytes.Length; c++, i += _rows)
        {
            ulong v = _nulls[i] ? NullHash : _bytes[c] is { } bytes ? (uint)Murmur3.HashBytes(Bytes(bytes, row)) : (ulong)_words[i];
            h = (h ^ v) * Multiplier;
        }
        return h;
    }

    /// <summary>Whether this batch's row and the other batch's row have equal values in every column (nulls equal).</summary>
    public bool Equal(int row, EqualityKeys other, int otherRow)
    {
        for (int c = 0; c < _bytes.Length; c++)
        {
            int i = c * _rows + row, j = c * other._rows + otherRow;
            if (_nulls[i] != other._nulls[j]) return false;
            if (_nulls[i]) continue;
            if (_bytes[c] is { } bytes
                    ? other._bytes[c] is not { } otherBytes || !Bytes(bytes, row).SequenceEqual(Bytes(otherBytes, otherRow))
                    : other._bytes[c] is not null || _words[i] != other._words[j])
                return false;
        }
        return true;
    }

    public void Dispose()
    {
        ArrayPool<long>.Shared.Return(_words);
        ArrayPool<bool>.Shared.Return(_nulls);
    }

    private static ReadOnlySpan<byte> Bytes(IArrowArray array, int row) =>
        array is BinaryArray b ? b.GetBytes(row) : ((FixedSizeBinaryArray)array).GetBytes(row);

    private static void Widen<T>(ReadOnlySpan<T> values, Span<long> words) where T : struct, IBinaryInteger<T>
    {
        for (int i = 0; i < words.Length; i++) words[i] = long.CreateTruncating(values[i]);
    }

    private static long DoubleBits(double value) => BitConverter.DoubleToInt64Bits(double.IsNaN(value) ? double.NaN : value);
}
