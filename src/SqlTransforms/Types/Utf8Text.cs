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
}
