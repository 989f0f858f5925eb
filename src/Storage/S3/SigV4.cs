using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace DataPlane.Storage.S3;

/// <summary>
/// AWS Signature Version 4 for every S3 call (see <see cref="S3Rest"/>). Signs host and every x-amz-* header, the
/// session token of temporary credentials (<c>x-amz-security-token</c>) among them, as S3 requires; bodies that stream
/// (parts, objects) are sent as UNSIGNED-PAYLOAD, which S3 and MinIO accept, so a part is never read twice.
/// </summary>
/// <param name="sessionToken">The session token of temporary credentials (STS, an instance role); null for long-term keys.</param>
/// <param name="service">The scope's service: <c>s3</c>, which also wants the payload hash as <c>x-amz-content-sha256</c>;
/// another name only to check the signer against AWS's generic test suite.</param>
internal sealed class SigV4(string accessKey, string secretKey, string region, string? sessionToken = null, string service = "s3")
{
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string SecurityTokenHeader = "x-amz-security-token";

    // The signing key depends only on the day: derived once a day, not four HMACs per request. One reference, so
    // concurrent signers see a date and its key together.
    private Tuple<string, byte[]> _signingKey = Tuple.Create("", Array.Empty<byte>());

    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Signs a request whose path and query were built already encoded (<paramref name="encodedPath"/>, <paramref name="encodedQuery"/>
    /// without '?'), so the signature covers exactly the bytes sent.</summary>
    public void Sign(HttpRequestMessage request, string encodedPath, string encodedQuery, string payloadHash, DateTime utcNow)
    {
        var uri = request.RequestUri!;
        var amzDate = utcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        request.Headers.Remove("x-amz-date");
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        if (service == "s3")
        {
            request.Headers.Remove("x-amz-content-sha256");
            request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        }
        if (sessionToken is not null)
        {
            request.Headers.Remove(SecurityTokenHeader);
            request.Headers.TryAddWithoutValidation(SecurityTokenHeader, sessionToken);
        }

        // Read the headers as stored (NonValidated): the validating enumerator would parse every value into header objects
        // on each of the two requests a copied object costs.
        var headers = new List<KeyValuePair<string, string>>(8) { new("host", uri.Authority) };
        foreach (var header in request.Headers.NonValidated)
        {
            if (!header.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
                continue;
            var value = header.Value.Count == 1 ? TrimAll(header.Value.ToString()) : JoinTrimmed(header.Value);
            headers.Add(new(header.Key.ToLowerInvariant(), value));
        }
        headers.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var canonical = new StringBuilder(512)
            .Append(request.Method.Method).Append('\n')
            .Append(encodedPath).Append('\n')
            .Append(CanonicalQuery(encodedQuery)).Append('\n');
        foreach (var (name, value) in headers)
            canonical.Append(name).Append(':').Append(value).Append('\n');
        canonical.Append('\n');
        var signedHeadersStart = canonical.Length;
        for (var i = 0; i < headers.Count; i++)
            (i == 0 ? canonical : canonical.Append(';')).Append(headers[i].Key);
        var signedHeaders = canonical.ToString(signedHeadersStart, canonical.Length - signedHeadersStart);
        canonical.Append('\n').Append(payloadHash);

        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Sha256Hex(canonical)}";
        var signing = _signingKey;
        if (signing.Item1 != date)
        {
            var derived = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), date);
            derived = Hmac(derived, region);
            derived = Hmac(derived, service);
            _signingKey = signing = Tuple.Create(date, Hmac(derived, "aws4_request"));
        }
        var key = signing.Item2;
        var signature = Convert.ToHexStringLower(Hmac(key, stringToSign));
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    /// <summary>Percent-encodes as SigV4 wants: everything but A-Z a-z 0-9 - _ . ~ (and '/' in paths).</summary>
    public static string Encode(string value, bool keepSlash)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var result = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlash && c == '/'))
                result.Append(c);
            else
                result.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return result.ToString();
    }

    // The query is built already encoded by S3Rest; canonical form only sorts it and gives bare names an empty value.
    private static string CanonicalQuery(string query)
    {
        if (query.Length == 0)
            return "";
        var pairs = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Contains('=') ? p : p + "=")
            .Order(StringComparer.Ordinal);
        return string.Join('&', pairs);
    }

    private static string JoinTrimmed(HeaderStringValues values)
    {
        var joined = new StringBuilder();
        foreach (var value in values)
            (joined.Length == 0 ? joined : joined.Append(',')).Append(TrimAll(value));
        return joined.ToString();
    }

    /// <summary>SHA-256 of the UTF-8 bytes of <paramref name="text"/>, hashed from a pooled buffer.</summary>
    private static string Sha256Hex(StringBuilder text)
    {
        var chars = ArrayPool<char>.Shared.Rent(text.Length);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            text.CopyTo(0, chars, 0, text.Length);
            var length = Encoding.UTF8.GetBytes(chars, 0, text.Length, bytes, 0);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(bytes.AsSpan(0, length), hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    // SigV4 canonical header values: trimmed, with runs of spaces collapsed to one.
    private static string TrimAll(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Contains("  ", StringComparison.Ordinal) ? System.Text.RegularExpressions.Regex.Replace(trimmed, " {2,}", " ") : trimmed;
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
