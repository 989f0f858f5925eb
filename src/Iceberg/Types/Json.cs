using System.Text.Json;

namespace DataPlane.Iceberg.Types;

/// <summary>Small readers for the spec's JSON objects that name the missing or mistyped key in their error.</summary>
internal static class Json
{
    public static JsonElement Required(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw new FormatException($"Missing required JSON key '{key}' in {Abbreviate(o)}");

    public static string RequiredString(JsonElement o, string key)
    {
        var v = Required(o, key);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Mistyped(key, "a string", v);
    }

    public static int RequiredInt(JsonElement o, string key)
    {
        var v = Required(o, key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Mistyped(key, "an int", v);
    }

    public static long RequiredLong(JsonElement o, string key)
    {
        var v = Required(o, key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i) ? i : throw Mistyped(key, "a long", v);
    }

    public static bool RequiredBool(JsonElement o, string key)
    {
        var v = Required(o, key);
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Mistyped(key, "a boolean", v);
    }

    public static string? OptionalString(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind == JsonValueKind.String ? v.GetString() : throw Mistyped(key, "a string", v)) : null;

    public static int? OptionalInt(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? (v.TryGetInt32(out var i) ? i : throw Mistyped(key, "an int", v)) : null;

    public static long? OptionalLong(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var i) ? i : throw Mistyped(key, "a long", v)) : null;

    public static bool? OptionalBool(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Mistyped(key, "a boolean", v)) : null;

    public static List<int> IntList(JsonElement o, string key)
    {
        var list = new List<int>();
        if (o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var x in v.EnumerateArray()) list.Add(x.GetInt32());
        return list;
    }

    public static Dictionary<string, string> StringMap(JsonElement o, string key)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object)
            foreach (var p in v.EnumerateObject())
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        return map;
    }

    /// <summary>Writes to a string with the writer settings used for every metadata document.</summary>
    public static string Write(Action<Utf8JsonWriter> write, bool indented = false)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static FormatException Mistyped(string key, string expected, JsonElement v) =>
        new($"JSON key '{key}' must be {expected}, got {v.ValueKind}: {Abbreviate(v)}");

    private static string Abbreviate(JsonElement e)
    {
        var t = e.GetRawText();
        return t.Length <= 200 ? t : t[..200] + "...";
    }
}
