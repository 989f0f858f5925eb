using System.Security.Cryptography;

namespace DataPlane.Storage;

/// <summary>S3 ETags: a single-part object's ETag is the hex MD5 of its bytes; a multipart object's is
/// the MD5 of its parts' binary MD5s followed by <c>-N</c>, N the part count. Every store gives them so (the local
/// folder computes the same), and the Slurper verifies copies by them.</summary>
public static class ETag
{
    /// <summary>The ETag as a header or listing sends it, without its quotes.</summary>
    public static string Unquote(string? etag) => etag is null ? "" : etag.Trim().Trim('"');

    /// <summary>Unquoted and lower case, for comparing.</summary>
    public static string Normalize(string? etag) => Unquote(etag).ToLowerInvariant();

    /// <summary>The part count of a multipart ETag, or 0 for a single-part (plain MD5) ETag.</summary>
    public static int PartCount(string etag)
    {
        var e = Normalize(etag);
        var dash = e.LastIndexOf('-');
        return dash > 0 && int.TryParse(e.AsSpan(dash + 1), out var n) ? n : 0;
    }

    public static bool IsMd5(string etag)
    {
        var e = Normalize(etag);
        return e.Length == 32 && e.All(char.IsAsciiHexDigitLower);
    }

    public static string Hex(ReadOnlySpan<byte> md5) => Convert.ToHexStringLower(md5);

    /// <summary>The ETag S3 gives an object uploaded in these parts (their binary MD5s, in part order).</summary>
    public static string Multipart(IReadOnlyList<byte[]> partMd5s)
    {
        var all = new byte[partMd5s.Count * 16];
        for (var i = 0; i < partMd5s.Count; i++) partMd5s[i].CopyTo(all, i * 16);
        return Hex(MD5.HashData(all)) + "-" + partMd5s.Count;
    }

    public static bool Same(string? a, string? b) => Normalize(a) is { Length: > 0 } na && na == Normalize(b);
}
