using System.Text;

namespace DataPlane.SqlTransforms.Types;

/// <summary>UTF-8 helpers for string kernels: code point counting and offsets, and case mapping with an ASCII fast path.</summary>
internal static class Utf8Text
{
    public static int CodePoints(ReadOnlySpan<byte> s)
    {
        int count = 0;
        foreach (byte b in s) if ((b & 0xC0) != 0x80) count++;
        return count;
    }

    /// <summary>The byte offset where code point <paramref name="index"/> starts (the length when past the end).</summary>
    public static int ByteOffset(ReadOnlySpan<byte> s, long index)
    {
        if (index <= 0) return 0;
        long seen = 0;
        for (int i = 0; i < s.Length; i++)
            if ((s[i] & 0xC0) != 0x80)
            {
                if (seen == index) return i;
                seen++;
            }
        return s.Length;
    }

    public static bool IsAscii(ReadOnlySpan<byte> s) => System.Text.Ascii.IsValid(s);

    /// <summary>Writes <paramref name="s"/> lower- or upper-cased (invariant culture) into the builder.</summary>
    public static void ChangeCase(ReadOnlySpan<byte> s, bool upper, Execution.Utf8Builder output)
    {
        if (IsAscii(s))
        {
            var target = output.Reserve(s.Length);
            for (int i = 0; i < s.Length; i++)
            {
                byte b = s[i];
                target[i] = upper ? (b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b) : (b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b);
            }
            output.Commit(s.Length);
            return;
        }
        string text = Encoding.UTF8.GetString(s);
        string changed = upper ? text.ToUpperInvariant() : text.ToLowerInvariant();
        int size = Encoding.UTF8.GetByteCount(changed);
        output.Commit(Encoding.UTF8.GetBytes(changed, output.Reserve(size)));
    }

    /// <summary>Where the code point after the one starting at <paramref name="i"/> starts.</summary>
    public static int NextCodePoint(ReadOnlySpan<byte> s, int i)
    {
        i++;
        while (i < s.Length && (s[i] & 0xC0) == 0x80) i++;
        return i;
    }

    /// <summary>Where the code point ending at <paramref name="end"/> starts (not before <paramref name="start"/>).</summary>
    public static int PreviousCodePoint(ReadOnlySpan<byte> s, int end, int start)
    {
        int i = end - 1;
        while (i > start && (s[i] & 0xC0) == 0x80) i--;
        return i;
    }

    /// <summary>Whether <paramref name="codePoint"/> (the bytes of one code point) is one of the code points of <paramref name="set"/>.</summary>
    public static bool ContainsCodePoint(ReadOnlySpan<byte> set, ReadOnlySpan<byte> codePoint)
    {
        for (int i = 0; i < set.Length;)
        {
            int next = NextCodePoint(set, i);
            if (set[i..next].SequenceEqual(codePoint)) return true;
            i = next;
        }
        return false;
    }

    /// <summary>Writes <paramref name="bytes"/> as lower-case hex digits (two per byte).</summary>
    public static void WriteHex(ReadOnlySpan<byte> bytes, Span<byte> target)
    {
        const string digits = "0123456789abcdef";
        for (int i = 0; i < bytes.Length; i++)
        {
            target[2 * i] = (byte)digits[bytes[i] >> 4];
            target[2 * i + 1] = (byte)digits[bytes[i] & 15];
        }
    }
}
