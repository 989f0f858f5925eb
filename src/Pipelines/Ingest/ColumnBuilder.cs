using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Apache.Arrow;
using Apache.Arrow.Types;
using DataPlane.Http;
using DataPlane.Iceberg.Types;
using IcebergDecimalType = DataPlane.Iceberg.Types.DecimalType;
using TypeId = DataPlane.Iceberg.Types.TypeId;

namespace DataPlane.Pipelines.Ingest;

/// <summary>
/// Appends JSON values of one column straight from the reader into Arrow buffers: no per-record objects, and the
/// buffers are kept across requests (cleared, not freed).
/// </summary>
internal abstract class ColumnBuilder
{
    private readonly BitBuffer _validity = new();

    protected ColumnBuilder(IArrowType type) => Type = type;

    public IArrowType Type { get; }
    public int Length => _validity.Length;

    /// <summary>Appends the value the reader is on (not null); returns null, or why the value does not fit the type.</summary>
    public string? Append(ref Utf8JsonReader reader, ref byte[] scratch)
    {
        var problem = AppendValue(ref reader, ref scratch);
        if (problem is null)
            _validity.Append(true);
        else
            AppendNull();
        return problem;
    }

    /// <summary>How <see cref="FlatRecordScanner"/> reads this column's values; None leaves them to the reader.</summary>
    public virtual FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.None;

    /// <summary>Appends a value <see cref="FlatRecordScanner"/> read: a number's bits (a double's or float's as
    /// <c>BitConverter</c> gives them, microseconds for a timestamp, 1 or 0 for a boolean), or a string's UTF-8.</summary>
    public void AppendScanned(long value, ReadOnlySpan<byte> text)
    {
        AppendScannedValue(value, text);
        _validity.Append(true);
    }

    protected virtual void AppendScannedValue(long value, ReadOnlySpan<byte> text) => throw new NotSupportedException();

    public void AppendNull()
    {
        _validity.Append(false);
        AppendEmpty();
    }

    /// <summary>
    /// A valid but empty value, for a required field under a null struct: Parquet ignores it (the struct is null),
    /// and the column keeps no nulls its schema forbids.
    /// </summary>
    private void AppendPlaceholder()
    {
        _validity.Append(true);
        AppendEmpty();
    }

    /// <summary>
    /// The column as an Arrow array over the builder's own memory (no copy): valid until the next append or
    /// <see cref="Clear"/>, which is long enough to serialize it for the log.
    /// </summary>
    public IArrowArray Build() => ArrowArrayFactory.BuildArray(BuildData());

    public ArrayData BuildData()
    {
        int nulls = _validity.UnsetCount;
        var validity = nulls == 0 ? ArrowBuffer.Empty : _validity.View();
        return new ArrayData(Type, Length, nulls, 0, BuildBuffers(validity), BuildChildren());
    }

    /// <summary>The child arrays of nested types (struct fields, list elements, map entries).</summary>
    protected virtual ArrayData[]? BuildChildren() => null;

    public void Clear()
    {
        _validity.Clear();
        ClearValues();
    }

    protected abstract string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch);
    protected abstract void AppendEmpty();
    protected abstract ArrowBuffer[] BuildBuffers(ArrowBuffer validity);
    protected abstract void ClearValues();

    public static ColumnBuilder For(IcebergType type, IArrowType arrowType) => type switch
    {
        IcebergDecimalType d => new DecimalColumn(arrowType, d),
        Iceberg.Types.FixedType f => new FixedBytesColumn(arrowType, f.Length),
        Iceberg.Types.StructType s => new StructColumn(arrowType, s),
        Iceberg.Types.ListType l => new ListColumn(arrowType, l),
        Iceberg.Types.MapType m => new MapColumn(arrowType, m),
        _ => type.TypeId switch
        {
            TypeId.Boolean => new BooleanColumn(arrowType),
            TypeId.Int => new Int32Column(arrowType),
            TypeId.Long => new Int64Column(arrowType),
            TypeId.Float => new FloatColumn(arrowType),
            TypeId.Double => new DoubleColumn(arrowType),
            TypeId.Date => new DateColumn(arrowType),
            TypeId.Time => new TimeColumn(arrowType),
            TypeId.Timestamp => new TimestampColumn(arrowType, withZone: false),
            TypeId.TimestampTz => new TimestampColumn(arrowType, withZone: true),
            TypeId.String => new StringColumn(arrowType),
            TypeId.Uuid => new UuidColumn(arrowType),
            TypeId.Binary => new BinaryColumn(arrowType),
            _ => throw new NotSupportedException($"No JSON column builder for {type}."),
        },
    };

    /// <summary>Appends raw UTF-8 (the record text of a schemaless stream).</summary>
    public virtual void AppendUtf8(ReadOnlySpan<byte> utf8) => throw new NotSupportedException();

    protected static string Got(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => token.ToString(),
    };

    /// <summary>The string value's UTF-8 bytes; see <see cref="JsonText.Utf8Value"/>.</summary>
    protected static ReadOnlySpan<byte> Utf8Value(ref Utf8JsonReader reader, ref byte[] scratch, out string? problem) =>
        JsonText.Utf8Value(ref reader, ref scratch, out problem);

    /// <summary>
    /// The index in <paramref name="names"/> of the property name the reader is on, trying <paramref name="expected"/>
    /// first (records usually list fields in order); -1 when it is none of them, a name that is no text included.
    /// </summary>
    public static int FindName(ref Utf8JsonReader reader, byte[][] names, int expected, ref byte[] scratch)
    {
        if (reader.ValueIsEscaped)
        {
            // The reader's own comparison unescapes and throws on an escape that is no character.
            var name = Utf8Value(ref reader, ref scratch, out var problem);
            if (problem is not null)
                return -1;
            for (int c = 0; c < names.Length; c++)
                if (name.SequenceEqual(names[c]))
                    return c;
            return -1;
        }
        if (expected < names.Length && reader.ValueTextEquals(names[expected]))
            return expected;
        for (int c = 0; c < names.Length; c++)
            if (c != expected && reader.ValueTextEquals(names[c]))
                return c;
        return -1;
    }

    /// <summary>Whether a string value is text (see <see cref="Utf8Value"/>); null, or why not.</summary>
    protected static string? TextProblem(ref Utf8JsonReader reader, ref byte[] scratch)
    {
        Utf8Value(ref reader, ref scratch, out var problem);
        return problem;
    }

    private abstract class Fixed<T>(IArrowType type) : ColumnBuilder(type) where T : unmanaged
    {
        private readonly ValueBuffer _values = new();
        protected void Add(T value) => _values.Append(value);
        protected override void AppendEmpty() => _values.Append(default(T));
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _values.View()];
        protected override void ClearValues() => _values.Clear();
    }

    private sealed class BooleanColumn(IArrowType type) : ColumnBuilder(type)
    {
        private readonly BitBuffer _values = new();
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                return $"expected a boolean, got {Got(reader.TokenType)}";
            _values.Append(reader.TokenType == JsonTokenType.True);
            return null;
        }
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Boolean;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => _values.Append(value != 0);
        protected override void AppendEmpty() => _values.Append(false);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _values.View()];
        protected override void ClearValues() => _values.Clear();
    }

    private sealed class Int32Column(IArrowType type) : Fixed<int>(type)
    {
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Int32;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add((int)value);
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.Number)
                return $"expected an int, got {Got(reader.TokenType)}";
            if (!reader.TryGetInt32(out int v))
                return $"{Encoding.UTF8.GetString(reader.ValueSpan)} is not an int (a whole number from {int.MinValue} to {int.MaxValue})";
            Add(v);
            return null;
        }
    }

    private sealed class Int64Column(IArrowType type) : Fixed<long>(type)
    {
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Int64;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add(value);
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.Number)
                return $"expected a long, got {Got(reader.TokenType)}";
            if (!reader.TryGetInt64(out long v))
                return $"{Encoding.UTF8.GetString(reader.ValueSpan)} is not a long (a whole number from {long.MinValue} to {long.MaxValue})";
            Add(v);
            return null;
        }
    }

    private sealed class FloatColumn(IArrowType type) : Fixed<float>(type)
    {
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Float;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add(BitConverter.Int32BitsToSingle((int)value));
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out float v) || float.IsInfinity(v))
                return $"expected a float, got {Got(reader.TokenType)}";
            Add(v);
            return null;
        }
    }

    private sealed class DoubleColumn(IArrowType type) : Fixed<double>(type)
    {
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Double;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add(BitConverter.Int64BitsToDouble(value));
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double v) || double.IsInfinity(v))
                return $"expected a double, got {Got(reader.TokenType)}";
            Add(v);
            return null;
        }
    }

    private sealed class DateColumn(IArrowType type) : Fixed<int>(type)
    {
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.String && reader.ValueIsEscaped && TextProblem(ref reader, ref scratch) is { } problem)
                return problem;
            if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length == 10 && reader.TryGetDateTime(out var d))
            {
                Add(DateOnly.FromDateTime(d).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber);
                return null;
            }
            return $"expected a date as \"YYYY-MM-DD\", got {Got(reader.TokenType)}";
        }
    }

    private sealed class TimeColumn(IArrowType type) : Fixed<long>(type)
    {
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= 32)
            {
                Span<char> chars = stackalloc char[32];
                int n = Encoding.UTF8.GetChars(reader.ValueSpan, chars);
                if (TimeOnly.TryParseExact(chars[..n], ["HH:mm:ss", "HH:mm:ss.FFFFFFF", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
                {
                    Add(t.Ticks / TimeSpan.TicksPerMicrosecond);
                    return null;
                }
            }
            return $"expected a time of day as \"HH:MM:SS[.ffffff]\", got {Got(reader.TokenType)}";
        }
    }

    /// <summary>Microseconds from the epoch. Strings are ISO 8601; numbers are milliseconds since the epoch (what JavaScript's Date.now() gives).</summary>
    private sealed class TimestampColumn(IArrowType type, bool withZone) : Fixed<long>(type)
    {
        private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.Timestamp;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add(value);

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long millis) && millis is > -62135596800000 and < 253402300800000)
            {
                Add(millis * 1000);
                return null;
            }
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = reader.ValueSpan;
                // The reader's own parsing unescapes, and throws on an escape that is no character.
                if (reader.ValueIsEscaped && TextProblem(ref reader, ref scratch) is { } problem)
                    return problem;
                if (!reader.ValueIsEscaped && IsoTimestamp.TryParse(text, out long micros, out _))
                {
                    Add(micros);
                    return null;
                }
                bool zoned = text.Length > 10 && (text[^1] is (byte)'Z' or (byte)'z' || text[10..].IndexOfAny((byte)'+', (byte)'-') >= 0);
                if (zoned && reader.TryGetDateTimeOffset(out var dto))
                {
                    Add((dto.UtcTicks - EpochTicks) / TimeSpan.TicksPerMicrosecond);
                    return null;
                }
                // Without a zone the text is taken as written: UTC for timestamptz, wall-clock time for timestamp.
                if (!zoned && reader.TryGetDateTime(out var dt))
                {
                    Add((dt.Ticks - EpochTicks) / TimeSpan.TicksPerMicrosecond);
                    return null;
                }
            }
            return $"expected a {(withZone ? "timestamptz" : "timestamp")} as an ISO 8601 string (\"2026-01-31T12:00:00Z\") or milliseconds since 1970, got {Got(reader.TokenType)}";
        }
    }

    private class VariableColumn(IArrowType type) : ColumnBuilder(type)
    {
        private readonly ValueBuffer _offsets = NewOffsets();
        private readonly ValueBuffer _bytes = new();

        protected void Add(ReadOnlySpan<byte> value)
        {
            _bytes.Append(value);
            _offsets.Append(_bytes.Length);
        }

        public override void AppendUtf8(ReadOnlySpan<byte> utf8)
        {
            Add(utf8);
            MarkValid();
        }

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.String)
                return $"expected a string, got {Got(reader.TokenType)}";
            var value = Utf8Value(ref reader, ref scratch, out var problem);
            if (problem is not null)
                return problem;
            Add(value);
            return null;
        }

        protected override void AppendEmpty() => _offsets.Append(_bytes.Length);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _offsets.View(), _bytes.View()];
        protected override void ClearValues()
        {
            _offsets.Clear();
            _offsets.Append(0);
            _bytes.Clear();
        }
    }

    private sealed class StringColumn(IArrowType type) : VariableColumn(type)
    {
        public override FlatRecordScanner.Kind ScanKind => FlatRecordScanner.Kind.String;
        protected override void AppendScannedValue(long value, ReadOnlySpan<byte> text) => Add(text);
    }

    private sealed class BinaryColumn(IArrowType type) : VariableColumn(type)
    {
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = Utf8Value(ref reader, ref scratch, out var problem).ToArray();
                if (problem is not null)
                    return problem;
                var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
                if (Base64.DecodeFromUtf8(text, decoded, out _, out int written) == System.Buffers.OperationStatus.Done)
                {
                    Add(decoded.AsSpan(0, written));
                    return null;
                }
            }
            return $"expected binary as a base64 string, got {Got(reader.TokenType)}";
        }
    }

    /// <summary>fixed[L]: exactly L bytes, given as base64 like binary.</summary>
    private sealed class FixedBytesColumn(IArrowType type, int length) : ColumnBuilder(type)
    {
        private readonly ValueBuffer _bytes = new();
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                var text = Utf8Value(ref reader, ref scratch, out var problem);
                if (problem is not null)
                    return problem;
                var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
                if (Base64.DecodeFromUtf8(text, decoded, out _, out int written) == System.Buffers.OperationStatus.Done)
                {
                    if (written != length)
                        return $"expected fixed[{length}] as base64 of exactly {length} bytes, got {written} bytes";
                    _bytes.Append(decoded.AsSpan(0, written));
                    return null;
                }
            }
            return $"expected fixed[{length}] as a base64 string, got {Got(reader.TokenType)}";
        }
        protected override void AppendEmpty() => _bytes.AppendZeros(length);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _bytes.View()];
        protected override void ClearValues() => _bytes.Clear();
    }

    private sealed class UuidColumn(IArrowType type) : ColumnBuilder(type)
    {
        private readonly ValueBuffer _bytes = new();
        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType == JsonTokenType.String && Utf8Parser.TryParse(reader.ValueSpan, out Guid g, out int used) && used == reader.ValueSpan.Length)
            {
                Span<byte> bytes = stackalloc byte[16];
                g.TryWriteBytes(bytes, bigEndian: true, out _);
                _bytes.Append(bytes);
                return null;
            }
            return $"expected a uuid as \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\", got {Got(reader.TokenType)}";
        }
        protected override void AppendEmpty() => _bytes.AppendZeros(16);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _bytes.View()];
        protected override void ClearValues() => _bytes.Clear();
    }

    /// <summary>
    /// decimal(P, S) from a JSON number or string, taken from its text so no digit is lost to binary floating point:
    /// 16-byte little-endian unscaled values, as Arrow's decimal128 stores them.
    /// </summary>
    private sealed class DecimalColumn(IArrowType type, IcebergDecimalType decimalType) : Fixed<Int128>(type)
    {
        private static readonly Int128[] Powers = Enumerable.Range(0, 39).Select(p => Enumerable.Repeat((Int128)10, p).Aggregate((Int128)1, (a, b) => a * b)).ToArray();

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType is not (JsonTokenType.Number or JsonTokenType.String))
                return $"expected a {decimalType} as a number or a string, got {Got(reader.TokenType)}";
            string? problem = null;
            var text = reader.TokenType == JsonTokenType.String ? Utf8Value(ref reader, ref scratch, out problem) : reader.ValueSpan;
            if (problem is not null)
                return problem;
            problem = TryParse(text, out var unscaled);
            if (problem is not null)
                return $"{Encoding.UTF8.GetString(text)} {problem}";
            Add(unscaled);
            return null;
        }

        private string? TryParse(ReadOnlySpan<byte> text, out Int128 unscaled)
        {
            unscaled = 0;
            int i = 0;
            bool negative = false;
            if (i < text.Length && text[i] is (byte)'-' or (byte)'+')
                negative = text[i++] == '-';
            int digits = 0, fraction = 0, exponent = 0;
            bool point = false, any = false;
            for (; i < text.Length; i++)
            {
                byte b = text[i];
                if (b == '.' && !point) { point = true; continue; }
                if (b is < (byte)'0' or > (byte)'9') break;
                any = true;
                if (point) fraction++;
                if (digits == 0 && b == '0') continue; // leading zeros carry nothing
                if (++digits > IcebergDecimalType.MaxPrecision)
                    return $"has more than {IcebergDecimalType.MaxPrecision} significant digits";
                unscaled = unscaled * 10 + (b - '0');
            }
            if (i < text.Length && text[i] is (byte)'e' or (byte)'E')
            {
                if (!int.TryParse(Encoding.ASCII.GetString(text[(i + 1)..]), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 100)
                    return $"is not a decimal number";
                i = text.Length;
            }
            if (!any || i != text.Length)
                return "is not a decimal number";
            // The text's value is unscaled * 10^(exponent - fraction); bring it to the column's scale.
            int shift = decimalType.Scale - fraction + exponent;
            while (shift < 0)
            {
                if (unscaled % 10 != 0)
                    return $"has more than {decimalType.Scale} digits after the point, which {decimalType} cannot hold";
                unscaled /= 10;
                shift++;
            }
            if (shift > 0)
            {
                if (shift > IcebergDecimalType.MaxPrecision || unscaled >= Powers[IcebergDecimalType.MaxPrecision - shift])
                    return $"does not fit {decimalType} (at most {decimalType.Precision - decimalType.Scale} digits before the point)";
                unscaled *= Powers[shift];
            }
            if (unscaled >= Powers[decimalType.Precision])
                return $"does not fit {decimalType} (at most {decimalType.Precision - decimalType.Scale} digits before the point)";
            if (negative)
                unscaled = -unscaled;
            return null;
        }
    }

    /// <summary>A JSON object into a struct: fields matched by name, missing ones null, undeclared ones dropped.</summary>
    private sealed class StructColumn : ColumnBuilder
    {
        private readonly ColumnBuilder[] _children;
        private readonly byte[][] _names;
        private readonly string[] _fieldNames;
        private readonly bool[] _required;
        private readonly bool[] _seen;

        public StructColumn(IArrowType type, Iceberg.Types.StructType structType) : base(type)
        {
            var arrow = (Apache.Arrow.Types.StructType)type;
            _children = structType.Fields.Select((f, i) => For(f.Type, arrow.Fields[i].DataType)).ToArray();
            _fieldNames = structType.Fields.Select(f => f.Name).ToArray();
            _names = _fieldNames.Select(Encoding.UTF8.GetBytes).ToArray();
            _required = structType.Fields.Select(f => f.Required).ToArray();
            _seen = new bool[_children.Length];
        }

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                return $"expected an object, got {Got(reader.TokenType)}";
            System.Array.Clear(_seen);
            string? problem = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int child = FindName(ref reader, _names, 0, ref scratch);
                reader.Read();
                if (child < 0 || problem is not null || _seen[child])
                {
                    if (child >= 0 && _seen[child])
                        problem ??= $"{_fieldNames[child]}: the field appears twice";
                    reader.Skip(); // Undeclared fields are dropped; after a problem the rest is only consumed.
                    continue;
                }
                _seen[child] = true;
                if (reader.TokenType == JsonTokenType.Null)
                {
                    _children[child].AppendNull();
                    if (_required[child])
                        problem = $"{_fieldNames[child]}: the field is required but is null";
                    continue;
                }
                var childProblem = _children[child].Append(ref reader, ref scratch);
                if (childProblem is not null)
                {
                    reader.Skip();
                    problem = $"{_fieldNames[child]}{(childProblem.StartsWith('[') ? "" : ": ")}{childProblem}";
                }
            }
            if (problem is not null)
                return problem;
            for (int c = 0; c < _children.Length; c++)
            {
                if (_seen[c]) continue;
                _children[c].AppendNull();
                if (_required[c])
                    return $"{_fieldNames[c]}: the field is required but missing";
            }
            return null;
        }

        protected override void AppendEmpty()
        {
            for (int c = 0; c < _children.Length; c++)
            {
                if (_required[c])
                    _children[c].AppendPlaceholder();
                else
                    _children[c].AppendNull();
            }
        }

        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity];
        protected override ArrayData[] BuildChildren() => _children.Select(c => c.BuildData()).ToArray();
        protected override void ClearValues()
        {
            foreach (var child in _children)
                child.Clear();
        }
    }

    /// <summary>A JSON array into a list: offsets here, the elements in one child column.</summary>
    private sealed class ListColumn(IArrowType type, Iceberg.Types.ListType listType) : ColumnBuilder(type)
    {
        private readonly ColumnBuilder _elements = For(listType.ElementType, ((Apache.Arrow.Types.ListType)type).ValueDataType);
        private readonly ValueBuffer _offsets = NewOffsets();

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
                return $"expected an array, got {Got(reader.TokenType)}";
            string? problem = null;
            for (int i = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; i++)
            {
                if (problem is not null)
                {
                    reader.Skip();
                    continue;
                }
                if (AppendNested(_elements, listType.ElementRequired, "elements", ref reader, ref scratch) is { } elementProblem)
                    problem = $"[{i}]{elementProblem}";
            }
            _offsets.Append(_elements.Length);
            return problem;
        }

        protected override void AppendEmpty() => _offsets.Append(_elements.Length);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _offsets.View()];
        protected override ArrayData[] BuildChildren() => [_elements.BuildData()];
        protected override void ClearValues()
        {
            _offsets.Clear();
            _offsets.Append(0);
            _elements.Clear();
        }
    }

    /// <summary>A JSON object into a map with string keys: offsets here, keys and values in one entries struct.</summary>
    private sealed class MapColumn : ColumnBuilder
    {
        private readonly Iceberg.Types.MapType _mapType;
        private readonly IArrowType _entriesType;
        private readonly ColumnBuilder _keys;
        private readonly ColumnBuilder _values;
        private readonly ValueBuffer _offsets = NewOffsets();
        private byte[] _key = new byte[64];

        public MapColumn(IArrowType type, Iceberg.Types.MapType mapType) : base(type)
        {
            _mapType = mapType;
            var map = (Apache.Arrow.Types.MapType)type;
            _entriesType = map.Fields[0].DataType;
            _keys = For(mapType.KeyType, map.KeyField.DataType);
            _values = For(mapType.ValueType, map.ValueField.DataType);
        }

        protected override string? AppendValue(ref Utf8JsonReader reader, ref byte[] scratch)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                return $"expected an object, got {Got(reader.TokenType)}";
            string? problem = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (problem is not null)
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                var key = Utf8Value(ref reader, ref scratch, out var keyProblem);
                if (keyProblem is not null)
                {
                    // Keys and values stay aligned: an empty key and a null value stand in for the refused entry.
                    _keys.AppendUtf8(default);
                    _values.AppendNull();
                    reader.Read();
                    reader.Skip();
                    problem = $"a key: {keyProblem}";
                    continue;
                }
                _keys.AppendUtf8(key);
                if (_key.Length < key.Length)
                    _key = new byte[Math.Max(key.Length, _key.Length * 2)];
                key.CopyTo(_key);
                int keyLength = key.Length;
                reader.Read();
                if (AppendNested(_values, _mapType.ValueRequired, "values", ref reader, ref scratch) is { } valueProblem)
                    problem = $"[\"{Encoding.UTF8.GetString(_key, 0, keyLength)}\"]{valueProblem}";
            }
            _offsets.Append(_keys.Length);
            return problem;
        }

        protected override void AppendEmpty() => _offsets.Append(_keys.Length);
        protected override ArrowBuffer[] BuildBuffers(ArrowBuffer validity) => [validity, _offsets.View()];
        protected override ArrayData[] BuildChildren() =>
            [new ArrayData(_entriesType, _keys.Length, 0, 0, [ArrowBuffer.Empty], [_keys.BuildData(), _values.BuildData()])];
        protected override void ClearValues()
        {
            _offsets.Clear();
            _offsets.Append(0);
            _keys.Clear();
            _values.Clear();
        }
    }

    protected void MarkValid() => _validity.Append(true);

    /// <summary>Offsets of a variable-width or list column: the first is 0.</summary>
    private static ValueBuffer NewOffsets()
    {
        var offsets = new ValueBuffer();
        offsets.Append(0);
        return offsets;
    }

    /// <summary>
    /// A list element or map value: appended (null included, so the offsets stay right) and, when it does not fit, the
    /// problem as it continues the parent's location (<c>: reason</c>, or a deeper <c>[...]</c> path); null when it fits.
    /// </summary>
    private static string? AppendNested(ColumnBuilder target, bool required, string what, ref Utf8JsonReader reader, ref byte[] scratch)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            target.AppendNull();
            return required ? $": {what} are required but this one is null" : null;
        }
        var problem = target.Append(ref reader, ref scratch);
        if (problem is null)
            return null;
        reader.Skip();
        return problem.StartsWith('[') ? problem : ": " + problem;
    }
}
