using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// Reads the common record straight from the UTF-8 bytes into the column builders, skipping Utf8JsonReader's
/// per-token work: a flat JSON object whose values are strings without escapes, numbers, booleans or null, each
/// fitting its column. The next field is guessed from the order of the record before (one comparison finds its
/// name). It answers only for records the reader path would accept without a problem and with the same values;
/// anything else (an escape, a nested value, a duplicate field, a value that does not fit, JSON the reader would
/// refuse) it leaves untouched to <see cref="RecordBatchParser"/>'s reader path, which says what is wrong.
/// </summary>
internal sealed class FlatRecordScanner
{
    /// <summary>How a column's values are read here; <see cref="None"/> leaves every record holding one to the reader.</summary>
    public enum Kind : byte { None, Boolean, Int32, Int64, Float, Double, String, Timestamp }


    /// <summary>Where a string ends, or stops being one this scanner copies as is: its quote, an escape, a control character.</summary>
    private static readonly SearchValues<byte> StringStops = SearchValues.Create(
        [(byte)'"', (byte)'\\', .. Enumerable.Range(0, 0x20).Select(b => (byte)b)]);

    /// <summary>The bytes of plain ASCII text in a string: the common string is scanned once, for its end and for text
    /// that needs a UTF-8 check, with the fastest search the framework has (values all ASCII).</summary>
    private static readonly SearchValues<byte> PlainAscii = SearchValues.Create(
        Enumerable.Range(0x20, 0x60).Where(b => b is not ('"' or '\\')).Select(b => (byte)b).ToArray());

    private static readonly double[] Pow10 = Enumerable.Range(0, 16).Select(p => Math.Pow(10, p)).ToArray();

    private readonly ColumnBuilder[] _columns;
    private readonly Kind[] _kinds;
    private readonly byte[][] _names;
    /// <summary>Each name and its closing quote: a guessed name is matched with one comparison, of 8 bytes read as one
    /// number (<see cref="_quotedPrefix"/> under <see cref="_quotedMask"/>) when it is that short.</summary>
    private readonly byte[][] _quoted;
    private readonly ulong[] _quotedPrefix;
    private readonly ulong[] _quotedMask;
    private readonly bool[] _required;
    private readonly int[] _requiredColumns;
    // The record being read, column by column: whether seen in it (the record's mark, odd when not null; the marks of
    // records before do not match, so nothing is cleared between records), and its value (a number's bits, a string's place).
    private readonly uint[] _marks;
    private uint _record;
    private readonly long[] _values;
    private readonly int[] _textStart;
    private readonly int[] _textLength;
    // The field order of the records before: the first column, and the one after each.
    private int _first;
    private readonly int[] _next;

    private FlatRecordScanner(ColumnBuilder[] columns, byte[][] names, bool[] required)
    {
        _columns = columns;
        _kinds = columns.Select(c => c.ScanKind).ToArray();
        _names = names;
        _quoted = names.Select(n => (byte[])[.. n, (byte)'"']).ToArray();
        _quotedMask = _quoted.Select(q => q.Length <= 8 ? ulong.MaxValue >> (64 - 8 * q.Length) : 0).ToArray();
        _quotedPrefix = _quoted.Select(q => q.Length <= 8 ? BinaryPrimitives.ReadUInt64LittleEndian([.. q, .. new byte[8 - q.Length]]) : 0).ToArray();
        _required = required;
        _requiredColumns = Enumerable.Range(0, columns.Length).Where(c => required[c]).ToArray();
        _marks = new uint[columns.Length];
        _values = new long[columns.Length];
        _textStart = new int[columns.Length];
        _textLength = new int[columns.Length];
        _next = Enumerable.Range(1, columns.Length).ToArray();
        _next[^1] = -1;
    }

    /// <summary>A scanner for these columns, or null when it could not match their names as the reader does (a name
    /// with a quote, a backslash or a control character would be written escaped).</summary>
    public static FlatRecordScanner? For(ColumnBuilder[] columns, byte[][] names, bool[] required) =>
        columns.Length == 0 || names.Any(n => n.AsSpan().IndexOfAny(StringStops) >= 0) ? null : new FlatRecordScanner(columns, names, required);

    /// <summary>
    /// Reads the object starting at <paramref name="start"/> (its '{') and appends its values to the columns: the index
    /// just past its '}'. -1, with nothing appended, when the record is not one this scanner reads itself, or is larger
    /// than <paramref name="maxRecordBytes"/>.
    /// </summary>
    public int TryRecord(ReadOnlySpan<byte> body, int start, int maxRecordBytes)
    {
        _record += 2;
        if (_record == 0)
        {
            System.Array.Clear(_marks); // after 2^31 records, so no record's mark is left over
            _record = 2;
        }
        int p = SkipWhitespace(body, start + 1);
        if (p >= body.Length)
            return -1;
        int previous = -1;
        if (body[p] != (byte)'}')
        {
            while (true)
            {
                if (body[p] != (byte)'"')
                    return -1;
                p++;
                int column = previous < 0 ? _first : _next[previous];
                if (column >= 0 && Matches(body, p, column))
                    p += _quoted[column].Length;
                else
                {
                    int length = body[p..].IndexOfAny(StringStops);
                    if (length < 0 || body[p + length] != (byte)'"')
                        return -1;
                    column = Find(body.Slice(p, length));
                    p += length + 1;
                    if (column >= 0)
                    {
                        if (previous < 0)
                            _first = column;
                        else
                            _next[previous] = column;
                    }
                }
                p = SkipWhitespace(body, p);
                if (p >= body.Length || body[p] != (byte)':')
                    return -1;
                p = SkipWhitespace(body, p + 1);
                if (p >= body.Length)
                    return -1;
                if (column < 0)
                    p = SkipValue(body, p); // Fields the schema does not declare are dropped.
                else
                {
                    if ((_marks[column] | 1) == (_record | 1))
                        return -1;
                    p = ReadValue(body, p, column);
                    previous = column;
                }
                if (p < 0)
                    return -1;
                p = SkipWhitespace(body, p);
                if (p >= body.Length)
                    return -1;
                if (body[p] == (byte)'}')
                    break;
                if (body[p] != (byte)',')
                    return -1;
                p = SkipWhitespace(body, p + 1);
                if (p >= body.Length)
                    return -1;
            }
        }
        int end = p + 1;
        if (end - start > maxRecordBytes)
            return -1;
        foreach (int c in _requiredColumns)
            if (_marks[c] != (_record | 1))
                return -1;

        for (int c = 0; c < _columns.Length; c++)
        {
            if (_marks[c] == (_record | 1))
                _columns[c].AppendScanned(_values[c], _kinds[c] == Kind.String ? body.Slice(_textStart[c], _textLength[c]) : default);
            else
                _columns[c].AppendNull();
        }
        return end;
    }

    /// <summary>Whether the name at <paramref name="p"/> (past its opening quote) is the column's, closing quote included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Matches(ReadOnlySpan<byte> body, int p, int column) =>
        _quotedMask[column] != 0 && body.Length - p >= 8
            ? (BinaryPrimitives.ReadUInt64LittleEndian(body.Slice(p, 8)) & _quotedMask[column]) == _quotedPrefix[column]
            : body[p..].StartsWith(_quoted[column]);

    private int Find(ReadOnlySpan<byte> name)
    {
        for (int c = 0; c < _names.Length; c++)
            if (name.SequenceEqual(_names[c]))
                return c;
        return -1;
    }

    /// <summary>Reads the value at <paramref name="p"/> (not whitespace) for <paramref name="column"/>: the index past
    /// it, or -1 when it is not one read here.</summary>
    private int ReadValue(ReadOnlySpan<byte> body, int p, int column)
    {
        byte first = body[p];
        if (first == (byte)'n')
        {
            if (_required[column] || !body[p..].StartsWith("null"u8))
                return -1;
            _marks[column] = _record;
            return p + 4;
        }
        long value;
        int end;
        switch (_kinds[column])
        {
            case Kind.String:
                if (first != (byte)'"' || (end = StringEnd(body, p + 1, out bool ascii)) < 0 || !ascii && !Utf8.IsValid(body[(p + 1)..(end - 1)]))
                    return -1;
                _textStart[column] = p + 1;
                _textLength[column] = end - 1 - (p + 1);
                value = 0;
                break;
            case Kind.Int64:
                if ((end = NumberEnd(body, p, out bool whole)) < 0 || !whole || !TryInt64(body[p..end], out value))
                    return -1;
                break;
            case Kind.Int32:
                if ((end = NumberEnd(body, p, out whole)) < 0 || !whole || !Utf8Parser.TryParse(body[p..end], out int int32, out int used) || used != end - p)
                    return -1;
                value = int32;
                break;
            case Kind.Double:
                if ((end = NumberEnd(body, p, out _)) < 0 || !TryDouble(body[p..end], out double number))
                    return -1;
                value = BitConverter.DoubleToInt64Bits(number);
                break;
            case Kind.Float:
                if ((end = NumberEnd(body, p, out _)) < 0 || !Utf8Parser.TryParse(body[p..end], out float single, out used) || used != end - p || !float.IsFinite(single))
                    return -1;
                value = BitConverter.SingleToInt32Bits(single);
                break;
            case Kind.Boolean:
                if (body[p..].StartsWith("true"u8))
                    (value, end) = (1, p + 4);
                else if (body[p..].StartsWith("false"u8))
                    (value, end) = (0, p + 5);
                else
                    return -1;
                break;
            case Kind.Timestamp:
                if (first == (byte)'"')
                {
                    // ISO 8601 in the common shape; any other spelling is the reader path's.
                    if ((end = StringEnd(body, p + 1, out _)) < 0 || !IsoTimestamp.TryParse(body[(p + 1)..(end - 1)], out value, out _))
                        return -1;
                }
                else if ((end = NumberEnd(body, p, out whole)) < 0 || !whole || !TryInt64(body[p..end], out long millis)
                    || millis is <= -62135596800000 or >= 253402300800000)
                    return -1;
                else
                    value = millis * 1000; // milliseconds since 1970, as JavaScript's Date.now() gives
                break;
            default:
                return -1;
        }
        _marks[column] = _record | 1;
        _values[column] = value;
        return end;
    }

    /// <summary>Skips a string, number, boolean or null at <paramref name="p"/>: the index past it, or -1.</summary>
    private static int SkipValue(ReadOnlySpan<byte> body, int p) => body[p] switch
    {
        (byte)'"' => StringEnd(body, p + 1, out _),
        (byte)'t' => body[p..].StartsWith("true"u8) ? p + 4 : -1,
        (byte)'f' => body[p..].StartsWith("false"u8) ? p + 5 : -1,
        (byte)'n' => body[p..].StartsWith("null"u8) ? p + 4 : -1,
        _ => NumberEnd(body, p, out _),
    };

    /// <summary>The index past the closing quote of the string whose text starts at <paramref name="p"/>, and whether
    /// its text is all ASCII (else it may not be UTF-8); -1 when it has an escape or a control character before the
    /// quote, or has none.</summary>
    private static int StringEnd(ReadOnlySpan<byte> body, int p, out bool ascii)
    {
        ascii = true;
        int length = body[p..].IndexOfAnyExcept(PlainAscii);
        if (length < 0)
            return -1;
        int at = p + length;
        if (body[at] == (byte)'"')
            return at + 1;
        if (body[at] < 0x80)
            return -1;
        ascii = false;
        length = body[at..].IndexOfAny(StringStops);
        return length >= 0 && body[at + length] == (byte)'"' ? at + length + 1 : -1;
    }

    /// <summary>
    /// The index past the JSON number at <paramref name="p"/> (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>, as
    /// the reader requires it), and whether it is written as a whole number; -1 when there is none.
    /// </summary>
    private static int NumberEnd(ReadOnlySpan<byte> body, int p, out bool whole)
    {
        whole = true;
        int i = p;
        if (i < body.Length && body[i] == (byte)'-')
            i++;
        if (i >= body.Length)
            return -1;
        if (body[i] == (byte)'0')
            i++;
        else if (IsDigit(body[i]))
            i = Digits(body, i + 1);
        else
            return -1;
        if (i < body.Length && body[i] == (byte)'.')
        {
            whole = false;
            int from = i + 1;
            i = Digits(body, from);
            if (i == from)
                return -1;
        }
        if (i < body.Length && (body[i] | 0x20) == (byte)'e')
        {
            whole = false;
            i++;
            if (i < body.Length && body[i] is (byte)'+' or (byte)'-')
                i++;
            int from = i;
            i = Digits(body, from);
            if (i == from)
                return -1;
        }
        return i;
    }

    private static int Digits(ReadOnlySpan<byte> body, int i)
    {
        while (i < body.Length && IsDigit(body[i]))
            i++;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    /// <summary>A whole JSON number as a long, as Utf8JsonReader.TryGetInt64 reads it.</summary>
    private static bool TryInt64(ReadOnlySpan<byte> text, out long value)
    {
        bool negative = text[0] == (byte)'-';
        var digits = negative ? text[1..] : text;
        if (digits.Length > 18)
            return Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
        long v = 0;
        foreach (byte b in digits)
            v = v * 10 + (b - '0');
        value = negative ? -v : v;
        return true;
    }

    /// <summary>
    /// A JSON number as a finite double, as Utf8JsonReader.TryGetDouble reads it (correctly rounded). Up to 15 digits
    /// and no exponent, the digits as a whole number are exact in a double and so is the power of ten, so one
    /// division rounds correctly; other numbers go through the framework's parser.
    /// </summary>
    private static bool TryDouble(ReadOnlySpan<byte> text, out double value)
    {
        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        long mantissa = 0;
        int digits = 0, fraction = -1;
        for (; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'.')
            {
                fraction = 0;
                continue;
            }
            if (!IsDigit(b) || ++digits > 15)
                return ParseDouble(text, out value);
            mantissa = mantissa * 10 + (b - '0');
            if (fraction >= 0)
                fraction++;
        }
        value = fraction > 0 ? mantissa / Pow10[fraction] : mantissa;
        if (negative)
            value = -value;
        return true;
    }

    private static bool ParseDouble(ReadOnlySpan<byte> text, out double value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length && double.IsFinite(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> body, int p)
    {
        while (p < body.Length && body[p] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            p++;
        return p;
    }
}
