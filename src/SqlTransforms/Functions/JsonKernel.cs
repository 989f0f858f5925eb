using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Execution.Kernels;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.Functions;

/// <summary>What a JSON function answers for the value its path finds.</summary>
internal enum JsonResult
{
    /// <summary>json_get, <c>-&gt;</c>: the value's JSON text as written; JSON null is NULL.</summary>
    Json,
    /// <summary>json_get_json: the value's JSON text as written, null included.</summary>
    RawJson,
    /// <summary>json_as_text, <c>-&gt;&gt;</c>: a string's text, any other value's JSON text; JSON null is NULL.</summary>
    Text,
    /// <summary>json_get_str: a string's text; anything else is NULL.</summary>
    String,
    /// <summary>json_get_int: an integer number, or a string holding one; anything else is NULL.</summary>
    Int,
    /// <summary>json_get_float: a number, or a string holding one; anything else is NULL.</summary>
    Float,
    /// <summary>json_get_bool: true or false, or the string "true" or "false"; anything else is NULL.</summary>
    Bool,
    /// <summary>json_length: the number of elements of an array or members of an object; anything else is NULL.</summary>
    Length,
    /// <summary>json_contains: whether the path finds a value (a JSON null too); false for a malformed document.</summary>
    Contains,
}

/// <summary>
/// The JSON functions' kernel: the first argument is JSON text, the others a path of object keys (VARCHAR) and
/// array indexes (BIGINT, 0-based), each a constant or a column. Each value is read with a <see cref="Utf8JsonReader"/>
/// straight over the column's UTF-8 bytes, only as far as the path needs (as DataFusion's jiter does), so no string
/// or document is made per row. A document that is malformed before the value is found gives NULL (DataFusion's rule);
/// one nested deeper than <see cref="SqlLimits.MaxJsonDepth"/> or longer than <see cref="SqlLimits.MaxJsonBytes"/>
/// fails the record (<see cref="Limit"/>). A NULL argument gives NULL.
/// </summary>
internal sealed class JsonKernel : Kernel
{
    public static readonly RowErrorReason Limit = new("json_limit",
        $"a JSON value nested deeper than {SqlLimits.MaxJsonDepth} levels or longer than {SqlLimits.MaxJsonBytes} bytes");

    private static readonly JsonReaderOptions Options = new() { MaxDepth = SqlLimits.MaxJsonDepth + 2 };

    private readonly IReadOnlyList<Kernel> _arguments;
    private readonly JsonResult _result;
    /// <summary>Per path step: the key's UTF-8 bytes when it is a constant key, else null.</summary>
    private readonly byte[]?[] _keys;
    /// <summary>Per path step: the index when it is a constant index, else -1 (a constant negative index finds nothing: -2).</summary>
    private readonly long[] _indexes;
    private readonly bool[] _isKey;
    private IArrowArray[] _columns = [];

    public JsonKernel(IReadOnlyList<Kernel> arguments, SqlType type, JsonResult result) : base(type)
    {
        _arguments = arguments;
        _result = result;
        int steps = arguments.Count - 1;
        _keys = new byte[steps][];
        _indexes = new long[steps];
        _isKey = new bool[steps];
        for (int s = 0; s < steps; s++)
        {
            var argument = arguments[s + 1];
            _isKey[s] = argument.Type.Kind != SqlTypeKind.BigInt;
            _indexes[s] = -1;
            if (argument is ConstantKernel { Value: string key }) _keys[s] = Encoding.UTF8.GetBytes(key);
            else if (argument is ConstantKernel { Value: long index }) _indexes[s] = index < 0 ? -2 : index;
        }
    }

    private enum Outcome { Found, Missing, TooLarge }

    public override IArrowArray Evaluate(EvalContext context)
    {
        int n = context.Length;
        var columns = new IArrowArray[_arguments.Count];
        byte[]? validity = null;
        for (int a = 0; a < columns.Length; a++)
        {
            columns[a] = _arguments[a].Evaluate(context);
            validity = a == 0 ? Vectors.Validity(columns[a]) : Vectors.And(validity, Vectors.Validity(columns[a]));
        }
        _columns = columns;
        var json = (BinaryArray)columns[0];
        return _result switch
        {
            JsonResult.Json or JsonResult.RawJson or JsonResult.Text or JsonResult.String => Texts(context, json, validity, n),
            JsonResult.Bool or JsonResult.Contains => Booleans(context, json, validity, n),
            JsonResult.Float => Numbers<double>(context, json, validity, n),
            _ => Numbers<long>(context, json, validity, n),
        };
    }

    private IArrowArray Texts(EvalContext context, BinaryArray json, byte[]? validity, int n)
    {
        var builder = new Utf8Builder(n, json.ValueBuffer.Length / 4);
        for (int i = 0; i < n; i++)
        {
            if (Vectors.Get(validity, i))
            {
                var document = json.GetBytes(i);
                switch (ReadText(document, i, builder))
                {
                    case Outcome.Found: continue;
                    case Outcome.TooLarge: Fail(context, i, document); break;
                }
            }
            builder.AppendNull();
        }
        return builder.Build();
    }

    private IArrowArray Booleans(EvalContext context, BinaryArray json, byte[]? validity, int n)
    {
        var bits = new byte[(n + 7) / 8];
        var valid = validity is null ? Vectors.AllValid(n) : (byte[])validity.Clone();
        for (int i = 0; i < n; i++)
        {
            if (!Vectors.Get(validity, i)) continue;
            var document = json.GetBytes(i);
            var outcome = ReadBoolean(document, i, out bool value);
            if (outcome == Outcome.Found) { if (value) Vectors.Set(bits, i); continue; }
            Vectors.Clear(valid, i);
            if (outcome == Outcome.TooLarge) Fail(context, i, document);
        }
        return Vectors.Boolean(bits, valid, n);
    }

    private IArrowArray Numbers<T>(EvalContext context, BinaryArray json, byte[]? validity, int n) where T : unmanaged
    {
        var bytes = Vectors.Allocate<T>(n, out var output);
        var valid = validity is null ? Vectors.AllValid(n) : (byte[])validity.Clone();
        for (int i = 0; i < n; i++)
        {
            if (!Vectors.Get(validity, i)) continue;
            var document = json.GetBytes(i);
            Outcome outcome;
            if (typeof(T) == typeof(double))
            {
                outcome = ReadFloat(document, i, out double d);
                output[i] = System.Runtime.CompilerServices.Unsafe.As<double, T>(ref d);
            }
            else
            {
                outcome = ReadInteger(document, i, out long l);
                output[i] = System.Runtime.CompilerServices.Unsafe.As<long, T>(ref l);
            }
            if (outcome == Outcome.Found) continue;
            Vectors.Clear(valid, i);
            if (outcome == Outcome.TooLarge) Fail(context, i, document);
        }
        return Vectors.Fixed(Type, bytes, valid, n);
    }

    private void Fail(EvalContext context, int row, ReadOnlySpan<byte> document)
    {
        if (context.Fail(row, Limit))
            context.Errors.AddSample(row, document.Length > SqlLimits.MaxJsonBytes
                ? $"a JSON value of {document.Length} bytes, over the limit of {SqlLimits.MaxJsonBytes}"
                : $"a JSON value nested deeper than {SqlLimits.MaxJsonDepth} levels: {Encoding.UTF8.GetString(document[..Math.Min(document.Length, 60)])}...");
    }

    private Outcome ReadText(ReadOnlySpan<byte> document, int row, Utf8Builder output)
    {
        var reader = new Utf8JsonReader(document, Options);
        try
        {
            var found = Locate(ref reader, document.Length, row);
            if (found != Outcome.Found) return found;
            var token = reader.TokenType;
            if (_result == JsonResult.String && token != JsonTokenType.String) return Outcome.Missing;
            if (token == JsonTokenType.Null && _result != JsonResult.RawJson) return Outcome.Missing;
            if (token == JsonTokenType.String && _result is JsonResult.String or JsonResult.Text)
            {
                if (!reader.ValueIsEscaped) { output.Append(reader.ValueSpan); return Outcome.Found; }
                // unescaping never makes the text longer
                int written = reader.CopyString(output.Reserve(reader.ValueSpan.Length));
                output.Commit(written);
                return Outcome.Found;
            }
            long start = reader.TokenStartIndex;
            var skipped = Skip(ref reader);
            if (skipped != Outcome.Found) return skipped;
            output.Append(document[(int)start..(int)reader.BytesConsumed]);
            return Outcome.Found;
        }
        catch (Exception e) when (Malformed(e))
        {
            return Outcome.Missing;
        }
    }

    private Outcome ReadBoolean(ReadOnlySpan<byte> document, int row, out bool value)
    {
        value = false;
        var reader = new Utf8JsonReader(document, Options);
        try
        {
            var found = Locate(ref reader, document.Length, row);
            if (_result == JsonResult.Contains)
            {
                value = found == Outcome.Found;
                return found == Outcome.TooLarge ? found : Outcome.Found;
            }
            if (found != Outcome.Found) return found;
            switch (reader.TokenType)
            {
                case JsonTokenType.True: value = true; return Outcome.Found;
                case JsonTokenType.False: return Outcome.Found;
                case JsonTokenType.String:
                    if (reader.ValueTextEquals("true"u8)) { value = true; return Outcome.Found; }
                    return reader.ValueTextEquals("false"u8) ? Outcome.Found : Outcome.Missing;
                default: return Outcome.Missing;
            }
        }
        catch (Exception e) when (Malformed(e))
        {
            // a malformed document holds no key (json_contains: false)
            return _result == JsonResult.Contains ? Outcome.Found : Outcome.Missing;
        }
    }

    private Outcome ReadInteger(ReadOnlySpan<byte> document, int row, out long value)
    {
        value = 0;
        var reader = new Utf8JsonReader(document, Options);
        try
        {
            var found = Locate(ref reader, document.Length, row);
            if (found != Outcome.Found) return found;
            if (_result == JsonResult.Length)
                return reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? Count(ref reader, out value) : Outcome.Missing;
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    return reader.TryGetInt64(out value) ? Outcome.Found : Outcome.Missing;
                case JsonTokenType.String:
                {
                    Span<byte> text = stackalloc byte[32];
                    int length = Unescape(ref reader, text);
                    if (length < 0) return Outcome.Missing;
                    return long.TryParse(text[..length], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) ? Outcome.Found : Outcome.Missing;
                }
                default:
                    return Outcome.Missing;
            }
        }
        catch (Exception e) when (Malformed(e))
        {
            return Outcome.Missing;
        }
    }

    private Outcome ReadFloat(ReadOnlySpan<byte> document, int row, out double value)
    {
        value = 0;
        var reader = new Utf8JsonReader(document, Options);
        try
        {
            var found = Locate(ref reader, document.Length, row);
            if (found != Outcome.Found) return found;
            switch (reader.TokenType)
            {
                case JsonTokenType.Number:
                    if (reader.TryGetDouble(out value)) return Outcome.Found;
                    // past double's range: infinity, as DataFusion's parser reads it
                    value = reader.ValueSpan[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
                    return Outcome.Found;
                case JsonTokenType.String:
                {
                    Span<byte> text = stackalloc byte[128];
                    int length = Unescape(ref reader, text);
                    if (length < 0) return Outcome.Missing;
                    return double.TryParse(text[..length], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                        CultureInfo.InvariantCulture, out value) ? Outcome.Found : Outcome.Missing;
                }
                default:
                    return Outcome.Missing;
            }
        }
        catch (Exception e) when (Malformed(e))
        {
            return Outcome.Missing;
        }
    }

    /// <summary>What the reader throws for a malformed document: a JsonException, or an InvalidOperationException for an escape that is no UTF-16 text (a lone surrogate).</summary>
    private static bool Malformed(Exception e) => e is JsonException or InvalidOperationException;

    /// <summary>A string token's text (unescaped) copied into <paramref name="buffer"/>: its length, or -1 when it does not fit (too long to be a number).</summary>
    private static int Unescape(ref Utf8JsonReader reader, scoped Span<byte> buffer)
    {
        var raw = reader.ValueSpan;
        if (raw.Length > buffer.Length) return -1;
        if (reader.ValueIsEscaped) return reader.CopyString(buffer);
        raw.CopyTo(buffer);
        return raw.Length;
    }

    /// <summary>Moves the reader onto the value the path names; Missing when a step finds nothing.</summary>
    private Outcome Locate(ref Utf8JsonReader reader, int length, int row)
    {
        if (length > SqlLimits.MaxJsonBytes) return Outcome.TooLarge;
        if (!reader.Read()) return Outcome.Missing;
        for (int s = 0; s < _isKey.Length; s++)
        {
            if (_isKey[s])
            {
                if (reader.TokenType != JsonTokenType.StartObject) return Outcome.Missing;
                if (reader.CurrentDepth >= SqlLimits.MaxJsonDepth) return Outcome.TooLarge;
                var key = _keys[s] ?? ((BinaryArray)_columns[s + 1]).GetBytes(row);
                while (true)
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.EndObject) return Outcome.Missing;
                    bool match = reader.ValueTextEquals(key);
                    reader.Read();
                    if (match) break;
                    var skipped = Skip(ref reader);
                    if (skipped != Outcome.Found) return skipped;
                }
            }
            else
            {
                if (reader.TokenType != JsonTokenType.StartArray) return Outcome.Missing;
                if (reader.CurrentDepth >= SqlLimits.MaxJsonDepth) return Outcome.TooLarge;
                long index = _indexes[s] == -1 ? Vectors.Values<long>(_columns[s + 1])[row] : _indexes[s];
                if (index < 0) return Outcome.Missing; // DataFusion's rule: a negative index finds nothing
                for (long k = 0; ; k++)
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.EndArray) return Outcome.Missing;
                    if (k == index) break;
                    var skipped = Skip(ref reader);
                    if (skipped != Outcome.Found) return skipped;
                }
            }
        }
        return Outcome.Found;
    }

    /// <summary>
    /// Moves past the value the reader is on (to its last token), checking the depth limit itself, where the
    /// reader's own Skip would throw past its MaxDepth without telling that apart from a malformed document.
    /// </summary>
    private static Outcome Skip(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray)) return Outcome.Found;
        int depth = reader.CurrentDepth;
        if (depth >= SqlLimits.MaxJsonDepth) return Outcome.TooLarge;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    if (reader.CurrentDepth >= SqlLimits.MaxJsonDepth) return Outcome.TooLarge;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    if (reader.CurrentDepth == depth) return Outcome.Found;
                    break;
            }
        }
        return Outcome.Missing;
    }

    /// <summary>The elements of the array or members of the object the reader is on.</summary>
    private static Outcome Count(ref Utf8JsonReader reader, out long count)
    {
        count = 0;
        int depth = reader.CurrentDepth;
        if (depth >= SqlLimits.MaxJsonDepth) return Outcome.TooLarge;
        while (reader.Read())
        {
            if (reader.CurrentDepth == depth) return Outcome.Found; // the closing token
            if (reader.TokenType == JsonTokenType.PropertyName) { count++; reader.Read(); }
            else count++;
            var skipped = Skip(ref reader);
            if (skipped != Outcome.Found) return skipped;
        }
        return Outcome.Missing;
    }
}
