using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace DataPlane.Http;

/// <summary>
/// Whether JSON strings are text: UTF-8 bytes, and no escape of half a UTF-16 surrogate pair (<c>"\ud800"</c>), which
/// no character is. System.Text.Json reads both without complaint and throws only when such a string is decoded, so
/// every JSON a client sends (records, definitions, catalog requests, queries) is checked here and refused with a 400
/// naming where it is and the escape or the byte.
/// </summary>
public static class JsonText
{
    /// <summary>
    /// The string value's UTF-8 bytes, unescaped into <paramref name="scratch"/> only when it has escapes; empty with
    /// <paramref name="problem"/> set when they are not text: bytes that are not UTF-8, or an escape of half a
    /// surrogate pair (<c>"\ud800"</c>), which no character is. Values become Parquet strings every reader decodes.
    /// </summary>
    public static ReadOnlySpan<byte> Utf8Value(ref Utf8JsonReader reader, ref byte[] scratch, out string? problem)
    {
        problem = null;
        var raw = reader.ValueSpan;
        if (!reader.ValueIsEscaped)
        {
            if (Utf8.IsValid(raw))
                return raw;
            problem = NotUtf8(raw);
            return default;
        }
        if (scratch.Length < raw.Length)
            scratch = new byte[Math.Max(raw.Length, scratch.Length * 2)];
        int n;
        try
        {
            n = reader.CopyString(scratch);
        }
        catch (InvalidOperationException)
        {
            problem = Utf8.IsValid(raw) ? LoneSurrogate(raw) : NotUtf8(raw);
            return default;
        }
        var value = scratch.AsSpan(0, n);
        if (Utf8.IsValid(value))
            return value;
        problem = NotUtf8(raw);
        return default;
    }

    /// <summary>
    /// The first string or property name of a JSON document that is not text, where it is and why
    /// (<c>at $.updates[0].action: the string is not valid UTF-8 ...</c>); null when all are, or when the document is not
    /// JSON at all (the parser that reads it next says so). Depth is bounded as the parser's is (64).
    /// </summary>
    public static string? FirstProblem(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        byte[] scratch = [];
        // Where the reader is: one frame per open object (its current property) or array (its current index).
        var path = new List<(bool Array, int Index, string? Name)>();
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                if (token == JsonTokenType.PropertyName)
                {
                    var name = Utf8Value(ref reader, ref scratch, out var nameProblem);
                    if (nameProblem is not null)
                        return $"at {Path(path)} (a property name): {nameProblem}";
                    path[^1] = (false, 0, Encoding.UTF8.GetString(name));
                    continue;
                }
                if (path.Count > 0 && path[^1].Array)
                    path[^1] = (true, path[^1].Index + 1, null);
                if (token == JsonTokenType.String)
                {
                    Utf8Value(ref reader, ref scratch, out var problem);
                    if (problem is not null)
                        return $"at {Path(path)}: {problem}";
                }
                else if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    path.Add((token == JsonTokenType.StartArray, -1, null));
            }
        }
        catch (JsonException)
        {
            return null;
        }
        return null;
    }

    private static string Path(List<(bool Array, int Index, string? Name)> path)
    {
        var text = new StringBuilder("$");
        foreach (var (array, index, name) in path)
        {
            if (array) text.Append('[').Append(index).Append(']');
            else if (name is not null) text.Append('.').Append(name);
        }
        return text.ToString();
    }

    /// <summary>Why <paramref name="raw"/> is not UTF-8, naming the first bad byte and where it is.</summary>
    public static string NotUtf8(ReadOnlySpan<byte> raw, string what = "the string")
    {
        int at = 0;
        while (at < raw.Length && Rune.DecodeFromUtf8(raw[at..], out _, out int used) == System.Buffers.OperationStatus.Done)
            at += used;
        return at < raw.Length
            ? $"{what} is not valid UTF-8 (byte 0x{raw[at]:X2} at byte {at} of it); send text as UTF-8"
            : $"{what} is not valid UTF-8; send text as UTF-8";
    }

    private static string LoneSurrogate(ReadOnlySpan<byte> raw)
    {
        // The first \uXXXX escape of a surrogate that is not a high one followed by a low one.
        for (int i = 0; i + 6 <= raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
                continue;
            if (raw[i + 1] != (byte)'u' || !Utf8Parser.TryParse(raw.Slice(i + 2, 4), out ushort unit, out int used, 'x') || used != 4)
            {
                i++; // another escape: its second character is not the start of one
                continue;
            }
            if (!char.IsSurrogate((char)unit))
                continue;
            bool paired = char.IsHighSurrogate((char)unit) && i + 12 <= raw.Length && raw[i + 6] == (byte)'\\' && raw[i + 7] == (byte)'u'
                && Utf8Parser.TryParse(raw.Slice(i + 8, 4), out ushort low, out used, 'x') && used == 4 && char.IsLowSurrogate((char)low);
            if (!paired)
                return $"the escape {Encoding.ASCII.GetString(raw.Slice(i, 6))} is half of a UTF-16 surrogate pair, which is no character; send the character itself or its whole pair";
            i += 11;
        }
        return "the string has an escape that is no character (half of a UTF-16 surrogate pair)";
    }
}
