using System.Text;

namespace DataPlane.Tests.Fuzz;

/// <summary>
/// What a careless or hostile client puts where a value belongs: wrong JSON types, numbers at and past every limit,
/// escapes and bytes that are not text, path tricks, deep nesting and huge terms. Values are raw JSON text (or raw
/// bytes), so that what System.Text.Json would refuse to write can still be sent.
/// </summary>
internal static class HostileValues
{
    private static readonly string[] Small =
    [
        "null", "true", "false", "[]", "{}", "[1]", "[null]", "{\"a\": 1}", "[[]]", "[{}]",
        "0", "-0", "-1", "1", "2.5", "-2.5", "1e20", "-1e20", "1e308", "-1e308", "1e999", "-1e999", "1e-999",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "2147483648", "-2147483649", "123456789012345678901234567890", "0.1e1", "1E400",
        "\"\"", "\" \"", "\"2\"", "\"-1\"", "\"1e20\"", "\"true\"", "\"null\"", "\"NaN\"", "\"Infinity\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"a\\ud800b\"", "\"\\udc00\\ud800\"", "\"\\u0000\"", "\"a\\u0000b\"", "\"\\ud83d\\ude00\"",
        "\"..\"", "\".\"", "\"../..\"", "\"../../../etc/passwd\"", "\"a/b\"", "\"a\\\\b\"", "\"%2e%2e\"", "\"%2F\"", "\"/\"",
        "\".dataplane\"", "\"_dataplane_meta\"", "\"_dataplane_x\"", "\"__\"", "\"CON\"", "\"a b\"", "\"\\t\"", "\"\\n\"",
        "\"file:///etc/passwd\"", "\"file:///\"", "\"s3://other-bucket/x\"", "\"http://169.254.169.254/latest\"", "\"/etc/passwd\"",
        "\"default\"", "\"events\"", "\"fz\"",
        "\"2026-13-45T99:99:99Z\"", "\"9999999-01-01T00:00:00Z\"", "\"-0001-01-01T00:00:00Z\"", "\"2026-11-25T10:00:00+99:00\"",
        "\"day(nonexist)\"", "\"bucket(0,id)\"", "\"bucket(-1,id)\"", "\"bucket(2147483648,id)\"", "\"truncate(0,user)\"", "\"id((\"", "\"day(\"", "\"hour(id)\"",
        "\"SELECT 1\"", "\"DROP TABLE users\"", "\"INSERT INTO events_table SELECT * FROM nope\"",
        "\"read-only\"", "\"read-write\"", "\"admin\"",
    ];

    /// <summary>A value to put where any JSON value goes.</summary>
    public static byte[] Value(Random random)
    {
        switch (random.Next(100))
        {
            case < 70: return Encoding.UTF8.GetBytes(Small[random.Next(Small.Length)]);
            case < 76: return LongString(random.Next(4) == 0 ? 2_000_000 : random.Next(1_000, 100_000));
            case < 82: return InvalidUtf8String(random);
            case < 88: return DeepNesting(random.Next(2) == 0 ? '[' : '{', random.Next(4) == 0 ? 100_000 : random.Next(100, 5_000));
            case < 92: return WideArray(random.Next(1_000, 200_000));
            case < 96: return Encoding.UTF8.GetBytes(JsonString(Terms(random.Next(2) == 0 ? 20_000 : random.Next(100, 5_000))));
            default: return Encoding.UTF8.GetBytes(JsonString(NestedParentheses(random.Next(1_000, 20_000))));
        }
    }

    /// <summary>A path segment (already escaped for the URL, or deliberately not).</summary>
    public static string Segment(Random random)
    {
        string[] segments =
        [
            "..", ".", "%2e%2e", "%2E%2E", "%2e", "a%2Fb", "a%2fb", "%00", "a%00b", "%ff", "%C0%AF", "%", "%zz", "%2", ".dataplane", "_dataplane_meta",
            "_x", "-", "a%20b", "%E2%80%8B", "%F0%9F%98%80", "nope", "NOPE", "a..b", "...", "%5C", "a%5Cb", "%1F", "%7F", "con", "a;b", "a%3Fb", "%23",
            "a%1Fb", "events%00", "default%2Fevents", "fz%1Ffz", "%EF%BF%BF", "%ED%A0%80",
        ];
        return random.Next(10) switch
        {
            0 => new string('a', random.Next(2) == 0 ? 300 : 20_000),
            1 => string.Concat(Enumerable.Repeat("%2e%2e%2f", random.Next(1, 20))),
            _ => segments[random.Next(segments.Length)],
        };
    }

    /// <summary>A whole request body that is not what any endpoint takes.</summary>
    public static byte[] Body(Random random)
    {
        switch (random.Next(16))
        {
            case 0: return [];
            case 1: return "null"u8.ToArray();
            case 2: return "[]"u8.ToArray();
            case 3: return "{"u8.ToArray();
            case 4: return "{\"a\":"u8.ToArray();
            case 5: return "\"\\ud800\""u8.ToArray();
            case 6: return DeepNesting('[', random.Next(2) == 0 ? 1_000_000 : 10_000);
            case 7: return DeepNesting('{', 50_000);
            case 8: { var b = new byte[random.Next(1, 4_096)]; random.NextBytes(b); return b; }
            case 9: return "{\"a\": 1, \"a\": 2}"u8.ToArray();
            case 10: return "\xEF\xBB\xBF{}"u8.ToArray();
            case 11: return Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, random.Next(1, 50)).Select(_ => Encoding.UTF8.GetString(Value(random)))));
            case 12: return Bytes(0xFF, 0xFE, 0x7B, 0x7D);
            case 13: return random.Next(8) == 0 ? Filled(20 * 1024 * 1024, (byte)' ') : LongString(random.Next(10_000, 200_000));
            case 14: return "NaN"u8.ToArray();
            default: return Value(random);
        }
    }

    public static string Terms(int count)
    {
        var sb = new StringBuilder("INSERT INTO events_table SELECT * FROM events WHERE ");
        for (int i = 0; i < count; i++)
            sb.Append(i == 0 ? "" : i % 2 == 0 ? " OR " : " AND ").Append("id = ").Append(i);
        return sb.ToString();
    }

    private static string NestedParentheses(int depth) =>
        "INSERT INTO events_table SELECT * FROM events WHERE " + new string('(', depth) + "id = 1" + new string(')', depth);

    private static string JsonString(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static byte[] LongString(int length)
    {
        var bytes = Filled(length + 2, (byte)'x');
        bytes[0] = bytes[^1] = (byte)'"';
        return bytes;
    }

    private static byte[] InvalidUtf8String(Random random)
    {
        byte[][] invalid = [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]];
        var bad = invalid[random.Next(invalid.Length)];
        return [(byte)'"', (byte)'a', .. bad, (byte)'b', (byte)'"'];
    }

    private static byte[] DeepNesting(char open, int depth)
    {
        var sb = new StringBuilder(depth * 6);
        for (int i = 0; i < depth; i++) sb.Append(open == '[' ? "[" : "{\"a\":");
        sb.Append('1');
        for (int i = 0; i < depth; i++) sb.Append(open == '[' ? ']' : '}');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static byte[] WideArray(int count)
    {
        var sb = new StringBuilder(count * 2 + 2).Append('[');
        for (int i = 0; i < count; i++) sb.Append(i == 0 ? "1" : ",1");
        return Encoding.UTF8.GetBytes(sb.Append(']').ToString());
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        return bytes;
    }

    private static byte[] Bytes(params byte[] bytes) => bytes;
}
