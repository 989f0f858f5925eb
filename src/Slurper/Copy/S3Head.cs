using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using DataPlane.Storage;

namespace DataPlane.Slurper.Copy;

/// <summary>
/// Heads S3 objects with one signed request each. Why not <see cref="IObjectStore.HeadAsync"/>: the S3 store heads
/// through the Minio SDK, which checks that the bucket exists before every stat: a second request per object, and on
/// s3rver (whose bucket HEAD is a full listing) a walk of the whole bucket per object, which makes a copy of N objects
/// cost N². Remove this once the store heads objects directly.
/// </summary>
internal sealed class S3Head : IDisposable
{
    static readonly string EmptySha256 = Convert.ToHexStringLower(SHA256.HashData([]));
    readonly HttpClient http;
    readonly Uri endpoint;
    readonly string bucket;
    readonly string prefix;
    readonly S3Options options;

    public S3Head(StoreEndpoint store)
    {
        options = store.S3 ?? new S3Options();
        var rest = store.Location["s3://".Length..];
        var slash = rest.IndexOf('/');
        bucket = slash < 0 ? rest : rest[..slash];
        var p = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        prefix = p.Length == 0 ? "" : p + "/";
        endpoint = new Uri((options.Endpoint ?? $"https://s3.{options.Region}.amazonaws.com").TrimEnd('/') + "/");
        http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
    {
        var path = "/" + Encode(bucket) + "/" + string.Join('/', (prefix + key).Split('/').Select(Encode));
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(endpoint, path));
        Sign(request, path);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
            throw new IOException($"HEAD {key} in s3://{bucket}/{prefix} at {endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers)
            if (name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
                metadata[name["x-amz-meta-".Length..].ToLowerInvariant()] = string.Join(",", values);
        var content = response.Content.Headers;
        return new ObjectInfo(key, content.ContentLength ?? 0, ETag.Normalize(response.Headers.ETag?.Tag),
            content.LastModified ?? DateTimeOffset.MinValue, content.ContentType?.ToString(), metadata.Count > 0 ? metadata : null);
    }

    static string Encode(string segment)
    {
        var sb = new StringBuilder(segment.Length);
        foreach (var b in Encoding.UTF8.GetBytes(segment))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~') sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>AWS Signature Version 4 for a request without a body.</summary>
    void Sign(HttpRequestMessage request, string path)
    {
        var now = DateTime.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", EmptySha256);
        if (string.IsNullOrEmpty(options.AccessKey)) return;
        const string signedHeaders = "host;x-amz-content-sha256;x-amz-date";
        var canonical = $"{request.Method.Method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{EmptySha256}\nx-amz-date:{amzDate}\n\n{signedHeaders}\n{EmptySha256}";
        var scope = $"{date}/{options.Region}/s3/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + options.SecretKey);
        foreach (var part in new[] { date, options.Region, "s3", "aws4_request" }) key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={options.AccessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    public void Dispose() => http.Dispose();
}
