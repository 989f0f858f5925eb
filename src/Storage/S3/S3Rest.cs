using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;

namespace DataPlane.Storage.S3;

/// <summary>
/// The S3 REST calls DataPlane makes, as requests signed by <see cref="SigV4"/>: streamed GET, one ListObjectsV2 page
/// with start-after, max-keys and any delimiter, the multipart calls (so that parts can be sent in parallel by the
/// caller), PUT straight from a buffer or a stream, DELETE, and the bucket's HEAD and creation. Path-style
/// (<c>endpoint/bucket/key</c>) or virtual-hosted (<c>bucket.endpoint/key</c>).
/// </summary>
internal sealed class S3Rest : IDisposable
{
    /// <summary>A transient failure is retried three times within about a second: for longer, the caller's own retries
    /// (a Slurper copy, a pipeline's restart) are the better judge.</summary>
    private static readonly RetryPolicy Retry = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(150), MaxDelay = TimeSpan.FromSeconds(1) };

    private readonly HttpClient _http;
    // Everything before the key: the origin (with the bucket in the host when virtual-hosted) and, path-style, "/bucket".
    private readonly string _origin;
    private readonly string _bucketPath;
    private readonly string _region;
    private readonly SigV4 _signer;

    /// <param name="connect">Opens the connection for a request instead of a DNS lookup of its host: a test seam, so that
    /// virtual-hosted names (<c>bucket.s3.localhost</c>) reach a server on loopback where no resolver knows them.</param>
    public S3Rest(Uri endpoint, string bucket, bool pathStyle, string region, SigV4 signer,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect = null)
    {
        _origin = pathStyle ? endpoint.GetLeftPart(UriPartial.Authority) : $"{endpoint.Scheme}://{bucket}.{endpoint.Authority}";
        _bucketPath = pathStyle ? "/" + SigV4.Encode(bucket, keepSlash: false) : "";
        _region = region;
        _signer = signer;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 64,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            // S3 sets no cookies, and a redirect to another host would carry a signature for the wrong one: both handlers
            // would only add work to every request.
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectCallback = connect,
        })
        {
            Timeout = TimeSpan.FromMinutes(30),
        };
    }

    /// <summary>A GET whose headers have arrived; the caller reads the body from the response and disposes it.</summary>
    public async Task<HttpResponseMessage> GetObjectAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        using var request = Build(HttpMethod.Get, key, [], SigV4.UnsignedPayload);
        if (range is { } r)
            request.Headers.TryAddWithoutValidation("Range", r.ToString());
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await ThrowIfFailedAsync(response, "GetObject", cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>HEAD of one object; null when absent. One request: no check of the bucket first (on s3rver a whole-bucket
    /// listing per object).</summary>
    /// <param name="partNumber">Heads one part of a multipart object: S3 then answers that part's length and the part count.</param>
    public Task<HttpResponseMessage?> HeadObjectAsync(string key, CancellationToken cancellationToken, int? partNumber = null) =>
        SendAsync(() => Build(HttpMethod.Head, key, partNumber is { } n ? [("partNumber", n.ToString(CultureInfo.InvariantCulture))] : [], SigV4.UnsignedPayload),
            HttpCompletionOption.ResponseHeadersRead, async response =>
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    response.Dispose();
                    return null;
                }
                // A HEAD has no body to name the error: the status alone says whether to retry.
                await ThrowIfFailedAsync(response, "HeadObject", cancellationToken);
                return (HttpResponseMessage?)response;
            }, cancellationToken);

    public async Task<ListObjectsResult> ListObjectsV2Async(string prefix, string? startAfter, int maxKeys, string? delimiter, CancellationToken cancellationToken)
    {
        var query = new List<(string, string?)> { ("list-type", "2"), ("max-keys", maxKeys.ToString(CultureInfo.InvariantCulture)), ("prefix", prefix) };
        if (startAfter is not null) query.Add(("start-after", startAfter));
        if (delimiter is not null) query.Add(("delimiter", delimiter));
        var xml = await SendForXmlAsync(() => Build(HttpMethod.Get, null, query, SigV4.Sha256Hex([])), "ListObjectsV2", cancellationToken);

        var objects = new List<ListedObject>();
        var prefixes = new List<string>();
        foreach (var element in xml.Root!.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "Contents":
                    objects.Add(new ListedObject(
                        Child(element, "Key") ?? "",
                        long.Parse(Child(element, "Size") ?? "0", CultureInfo.InvariantCulture),
                        ETag.Unquote(Child(element, "ETag")),
                        DateTimeOffset.Parse(Child(element, "LastModified") ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                        Child(element, "StorageClass")));
                    break;
                case "CommonPrefixes":
                    if (Child(element, "Prefix") is { } p) prefixes.Add(p);
                    break;
            }
        }
        var truncated = string.Equals(Child(xml.Root, "IsTruncated"), "true", StringComparison.OrdinalIgnoreCase);
        return new ListObjectsResult(objects, prefixes, truncated);
    }

    public async Task<string> PutObjectAsync(string key, HttpContent content, string? contentType, IReadOnlyDictionary<string, string>? metadata,
        string? storageClass, CancellationToken cancellationToken)
    {
        using var request = Build(HttpMethod.Put, key, [], SigV4.UnsignedPayload, metadata, storageClass);
        request.Content = content;
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfFailedAsync(response, "PutObject", cancellationToken);
        return ETag.Unquote(response.Headers.ETag?.Tag);
    }

    public async Task<string> CreateMultipartUploadAsync(string key, string? contentType, IReadOnlyDictionary<string, string>? metadata,
        string? storageClass, CancellationToken cancellationToken)
    {
        var xml = await SendForXmlAsync(() =>
        {
            var request = Build(HttpMethod.Post, key, [("uploads", null)], SigV4.Sha256Hex([]), metadata, storageClass);
            request.Content = new ByteArrayContent([]);
            if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            return request;
        }, "CreateMultipartUpload", cancellationToken);
        return Child(xml.Root!, "UploadId") ?? throw new IOException($"S3 CreateMultipartUpload for '{key}' returned no UploadId.");
    }

    public async Task<string> UploadPartAsync(string key, string uploadId, int partNumber, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = Build(HttpMethod.Put, key,
            [("partNumber", partNumber.ToString(CultureInfo.InvariantCulture)), ("uploadId", uploadId)], SigV4.UnsignedPayload);
        request.Content = content;
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await ThrowIfFailedAsync(response, "UploadPart", cancellationToken);
        return ETag.Unquote(response.Headers.ETag?.Tag ?? (response.Headers.TryGetValues("ETag", out var v) ? v.FirstOrDefault() : null));
    }

    public async Task<string> CompleteMultipartUploadAsync(string key, string uploadId, IEnumerable<(int PartNumber, string ETag)> parts, CancellationToken cancellationToken)
    {
        var body = new StringBuilder("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        foreach (var (n, etag) in parts)
            body.Append("<Part><PartNumber>").Append(n).Append("</PartNumber><ETag>\"").Append(etag).Append("\"</ETag></Part>");
        var bytes = Encoding.UTF8.GetBytes(body.Append("</CompleteMultipartUpload>").ToString());
        // S3 may answer 200 and still report an error in the body; SendForXmlAsync checks for <Error>.
        var xml = await SendForXmlAsync(() =>
        {
            var request = Build(HttpMethod.Post, key, [("uploadId", uploadId)], SigV4.Sha256Hex(bytes));
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/xml");
            return request;
        }, "CompleteMultipartUpload", cancellationToken);
        return ETag.Unquote(Child(xml.Root!, "ETag"));
    }

    /// <summary>Best effort: the parts are invisible either way, and some servers (s3rver) do not implement abort.</summary>
    public async Task AbortMultipartUploadAsync(string key, string uploadId)
    {
        try
        {
            using var request = Build(HttpMethod.Delete, key, [("uploadId", uploadId)], SigV4.Sha256Hex([]));
            using var response = await _http.SendAsync(request);
        }
        catch (HttpRequestException)
        {
        }
    }

    /// <summary>DELETE of one object; deleting an absent key succeeds, as it does on S3.</summary>
    public Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        SendAsync(() => Build(HttpMethod.Delete, key, [], SigV4.Sha256Hex([])), HttpCompletionOption.ResponseContentRead, async response =>
        {
            using (response)
                if (response.StatusCode != HttpStatusCode.NotFound)
                    await ThrowIfFailedAsync(response, "DeleteObject", cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>Whether the bucket exists (HEAD of the bucket); a bucket of someone else's is an error (403), not absent.</summary>
    public Task<bool> BucketExistsAsync(CancellationToken cancellationToken) =>
        SendAsync(() => Build(HttpMethod.Head, null, [], SigV4.Sha256Hex([])), HttpCompletionOption.ResponseContentRead, async response =>
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                    return false;
                await ThrowIfFailedAsync(response, "HeadBucket", cancellationToken);
                return true;
            }
        }, cancellationToken);

    /// <summary>Creates the bucket in the region (outside us-east-1, S3 wants it named in the body); a bucket that exists by
    /// then (another process created it first) is fine.</summary>
    public async Task CreateBucketAsync(CancellationToken cancellationToken)
    {
        var body = _region == "us-east-1"
            ? []
            : Encoding.UTF8.GetBytes("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                + System.Security.SecurityElement.Escape(_region) + "</LocationConstraint></CreateBucketConfiguration>");
        var conflict = await SendAsync(() =>
        {
            var request = Build(HttpMethod.Put, null, [], SigV4.Sha256Hex(body));
            request.Content = new ByteArrayContent(body);
            return request;
        }, HttpCompletionOption.ResponseContentRead, async response =>
        {
            using (response)
            {
                try
                {
                    await ThrowIfFailedAsync(response, "CreateBucket", cancellationToken);
                    return null;
                }
                catch (S3RequestException e) when (e.Status == HttpStatusCode.Conflict)
                {
                    return e;
                }
            }
        }, cancellationToken);
        if (conflict is not null && !await BucketExistsAsync(cancellationToken))
            throw conflict;
    }

    public void Dispose() => _http.Dispose();

    /// <param name="key">The object's key; null for a request to the bucket itself.</param>
    private HttpRequestMessage Build(HttpMethod method, string? key, IEnumerable<(string Name, string? Value)> query, string payloadHash,
        IReadOnlyDictionary<string, string>? metadata = null, string? storageClass = null)
    {
        var path = _bucketPath + (key is not null ? "/" + SigV4.Encode(key, keepSlash: true) : _bucketPath.Length == 0 ? "/" : "");
        var encodedQuery = string.Join('&', query.Select(p => p.Value is null
            ? SigV4.Encode(p.Name, false)
            : SigV4.Encode(p.Name, false) + "=" + SigV4.Encode(p.Value, false)));
        var request = new HttpRequestMessage(method, new Uri(_origin + path + (encodedQuery.Length > 0 ? "?" + encodedQuery : "")));
        if (metadata is not null)
            foreach (var (name, value) in metadata)
                request.Headers.TryAddWithoutValidation("x-amz-meta-" + name, value);
        if (storageClass is not null)
            request.Headers.TryAddWithoutValidation("x-amz-storage-class", storageClass);
        _signer.Sign(request, path, encodedQuery, payloadHash, DateTime.UtcNow);
        return request;
    }

    private Task<XDocument> SendForXmlAsync(Func<HttpRequestMessage> build, string operation, CancellationToken cancellationToken) =>
        SendAsync(build, HttpCompletionOption.ResponseContentRead, async response =>
        {
            using (response)
            {
                await ThrowIfFailedAsync(response, operation, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                var xml = XDocument.Parse(text);
                // S3 may answer 200 and still report an error in the body (CompleteMultipartUpload).
                if (xml.Root?.Name.LocalName == "Error")
                    throw new S3RequestException(HttpStatusCode.InternalServerError, Child(xml.Root, "Code"), Child(xml.Root, "Message"), operation);
                return xml;
            }
        }, cancellationToken);

    /// <summary>
    /// Sends a request that is safe to send again (built anew each time, no caller's stream in it), retrying what S3 calls
    /// transient (500, 503 SlowDown, a reset connection). <paramref name="read"/> owns the response: it reads or hands it
    /// on, and throws (<see cref="ThrowIfFailedAsync"/>) for a failure, which is retried when transient.
    /// </summary>
    private async Task<T> SendAsync<T>(Func<HttpRequestMessage> build, HttpCompletionOption completion, Func<HttpResponseMessage, Task<T>> read,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage? response = null;
            try
            {
                using var request = build();
                response = await _http.SendAsync(request, completion, cancellationToken);
                return await read(response);
            }
            catch (Exception e) when (!Retry.IsExhausted(attempt) && IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                await Task.Delay(Retry.DelayAfter(attempt), cancellationToken);
            }
            catch
            {
                response?.Dispose();
                throw;
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        e is HttpRequestException
        || e is S3RequestException { Status: HttpStatusCode.InternalServerError or HttpStatusCode.ServiceUnavailable } s && s.Code is not "NoSuchUpload";

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        string? code = null, message = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length > 0)
            {
                var root = XDocument.Parse(text).Root!;
                code = Child(root, "Code");
                message = Child(root, "Message");
            }
        }
        catch (System.Xml.XmlException)
        {
        }
        throw new S3RequestException(response.StatusCode, code, message, operation);
    }

    private static string? Child(XElement parent, string name) =>
        parent.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
}

internal sealed record ListedObject(string Key, long Size, string ETag, DateTimeOffset LastModified, string? StorageClass);

internal sealed record ListObjectsResult(IReadOnlyList<ListedObject> Objects, IReadOnlyList<string> CommonPrefixes, bool IsTruncated);
