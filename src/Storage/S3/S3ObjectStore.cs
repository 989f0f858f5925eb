namespace DataPlane.Storage.S3;

/// <summary>
/// A bucket prefix on an S3-compatible server (AWS, MinIO, R2, s3rver), path-style or virtual-hosted, with long-term
/// keys or temporary credentials (a session token). Every call is a request signed here (<see cref="S3Rest"/>,
/// <see cref="SigV4"/>) rather than an SDK's: the calls DataPlane needs are few (get, head, list a page, put, the
/// multipart calls, delete, the bucket's head and creation), and the Minio SDK 7 kept the multipart calls internal,
/// offered gets only through a callback and listings only as enumerators, and copied every put's data (about 3x the
/// object's size allocated, measured in bench/Storage); AWSSDK.S3 sends aws-chunked bodies that s3rver stores as data.
/// </summary>
internal sealed class S3ObjectStore : IObjectStore
{
    private const int MiB = 1024 * 1024;
    /// <summary>S3's smallest part (every part but the last).</summary>
    public const int MinPartSize = 5 * MiB;
    /// <summary>Parts are buffered in memory, so keep them well inside an array.</summary>
    public const int MaxPartSize = 1024 * MiB;

    private readonly S3Location _location;
    private readonly S3Rest _rest;
    private readonly Lazy<Task>? _bucketReady;

    public S3ObjectStore(S3Location location, S3Options options)
        : this(location, options, connect: null)
    {
    }

    /// <param name="connect">A test seam (see <see cref="S3Rest"/>): opens connections instead of a DNS lookup.</param>
    internal S3ObjectStore(S3Location location, S3Options options, Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? connect)
    {
        if (string.IsNullOrEmpty(options.AccessKey) || string.IsNullOrEmpty(options.SecretKey))
            throw new ArgumentException($"{location.Uri} needs credentials: set S3Options.AccessKey and S3Options.SecretKey.", nameof(options));
        if (string.IsNullOrWhiteSpace(options.Region))
            throw new ArgumentException($"{location.Uri} needs a region: set S3Options.Region (us-east-1 where the server has none).", nameof(options));
        var endpointText = options.Endpoint ?? $"https://s3.{options.Region}.amazonaws.com";
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Invalid S3 endpoint '{endpointText}': use http://host:port or https://host.", nameof(options));
        if (!options.PathStyle)
        {
            // Virtual-hosted addressing puts the bucket in the host name: an address has no sub-domains, and a dotted
            // bucket over TLS gets a name the server's wildcard certificate does not cover.
            if (endpoint.HostNameType != UriHostNameType.Dns)
                throw new ArgumentException(
                    $"S3 endpoint '{endpointText}' is an address, so it cannot take {location.Bucket} as a sub-domain: use its host name, or path-style addressing.", nameof(options));
            if (endpoint.Scheme == Uri.UriSchemeHttps && location.Bucket.Contains('.'))
                throw new ArgumentException(
                    $"Bucket '{location.Bucket}' has dots, which virtual-hosted addressing over https cannot name (the certificate covers one level): use path-style addressing.", nameof(options));
        }

        _location = location;
        Location = location.Uri;
        var signer = new SigV4(options.AccessKey, options.SecretKey, options.Region, string.IsNullOrEmpty(options.SessionToken) ? null : options.SessionToken);
        _rest = new S3Rest(endpoint, location.Bucket, options.PathStyle, options.Region, signer, connect);
        _bucketReady = options.CreateBucket ? new Lazy<Task>(CreateBucketIfMissingAsync) : null;
    }

    public Uri Location { get; }

    public bool SupportsPutIfAbsent => false;

    /// <summary>S3's largest single PUT.</summary>
    public const long MaxSinglePutSize = 5L * 1024 * MiB;

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (options?.ContentLength is { } length)
        {
            if (length < 0)
                throw new ArgumentOutOfRangeException(nameof(options), $"PutOptions.ContentLength {length} for '{key}' is negative.");
            content = new ExactLengthStream(content, length, key);
            if (length <= MaxSinglePutSize)
                return await PutStreamedAsync(key, content, length, options, cancellationToken);
        }
        await using var writer = await OpenWriteAsync(key, options, cancellationToken);
        await content.CopyToAsync(writer, 1 << 20, cancellationToken);
        return await writer.CompleteAsync(cancellationToken);
    }

    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException(
            $"{Location} cannot guarantee put-if-absent: S3-compatible servers differ on conditional writes (s3rver ignores If-None-Match). " +
            "Check SupportsPutIfAbsent, and use unique keys or the catalog's compare-and-swap instead.");

    public async Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        if (range is { } r && (r.Offset < 0 || r.Length is <= 0))
            throw new ArgumentOutOfRangeException(nameof(range), $"Invalid range {r} for '{key}': the offset must be >= 0 and the length > 0.");
        await ReadyAsync();
        HttpResponseMessage response;
        try
        {
            response = await _rest.GetObjectAsync(fullKey, range, cancellationToken);
        }
        catch (S3RequestException e) when (e.Code == "NoSuchKey" || (e.Status == System.Net.HttpStatusCode.NotFound && e.Code != "NoSuchBucket"))
        {
            throw new ObjectNotFoundException(key, Location);
        }
        catch (S3RequestException e) when (e.Status == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new ArgumentOutOfRangeException(nameof(range), $"Range {range} starts past the end of '{key}' in {Location}.");
        }
        try
        {
            var length = response.Content.Headers.ContentLength ?? 0;
            // A range answer (206) gives the whole object's size after the slash of Content-Range.
            var size = response.Content.Headers.ContentRange?.Length ?? length;
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            return new ObjectBody(body, InfoOf(key, response, size), length, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        await ReadyAsync();
        using var response = await _rest.HeadObjectAsync(fullKey, cancellationToken);
        return response is null ? null : InfoOf(key, response, response.Content.Headers.ContentLength ?? 0);
    }

    public async Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        await ReadyAsync();
        // S3 answers a head of part 1 with that part's length and x-amz-mp-parts-count; an object written in one piece
        // (or a server that ignores partNumber) answers the whole object without the count.
        using var response = await _rest.HeadObjectAsync(fullKey, cancellationToken, partNumber: 1);
        if (response is null
            || !response.Headers.TryGetValues("x-amz-mp-parts-count", out var counts)
            || !int.TryParse(counts.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count)
            || count < 1)
            return null;
        return new PartLayout(count, response.Content.Headers.ContentLength ?? 0);
    }

    public async Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default)
    {
        prefix = ObjectKey.ValidatePrefix(prefix);
        maxKeys = ListPaging.CheckMaxKeys(maxKeys);
        if (delimiter == "") delimiter = null;
        await ReadyAsync();
        // After a page that ended on a common prefix, a server may roll the same prefix up again: ask for one
        // more entry and drop it.
        var rolledUp = ListPaging.RolledUpStartAfter(prefix, startAfter, delimiter);
        var ask = rolledUp is null ? maxKeys : Math.Min(maxKeys + 1, ListPaging.MaxKeysPerPage);
        var result = await _rest.ListObjectsV2Async(_location.Prefix + prefix, startAfter is null ? null : _location.Prefix + startAfter,
            ask, delimiter, cancellationToken);

        var entries = new List<(string Key, ObjectInfo? Object)>(result.Objects.Count + result.CommonPrefixes.Count);
        foreach (var o in result.Objects)
            entries.Add((Relative(o.Key), new ObjectInfo(Relative(o.Key), o.Size, o.ETag, o.LastModified,
                StorageClass: string.IsNullOrEmpty(o.StorageClass) ? ObjectInfo.StandardStorageClass : o.StorageClass)));
        foreach (var p in result.CommonPrefixes)
            if (Relative(p) != rolledUp)
                entries.Add((Relative(p), null));
        entries.Sort((a, b) => KeyOrder.Instance.Compare(a.Key, b.Key));
        var truncated = result.IsTruncated || entries.Count > maxKeys;
        if (entries.Count > maxKeys)
            entries.RemoveRange(maxKeys, entries.Count - maxKeys);

        return new ListPage(
            entries.Where(e => e.Object is not null).Select(e => e.Object!).ToList(),
            entries.Where(e => e.Object is null).Select(e => e.Key).ToList(),
            truncated && entries.Count > 0 ? entries[^1].Key : null);
    }

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) =>
        ListPaging.All(this, prefix, startAfter, cancellationToken);

    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        await ReadyAsync();
        await _rest.DeleteObjectAsync(fullKey, cancellationToken);
    }

    public async Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        var metadata = UserMetadata.Normalize(options?.Metadata);
        var storageClass = StorageClassName.Validate(options?.StorageClass);
        await ReadyAsync();
        var uploadId = await _rest.CreateMultipartUploadAsync(fullKey, options?.ContentType, metadata, storageClass, cancellationToken);
        return new S3MultipartUpload(this, _rest, key, fullKey, uploadId);
    }

    public async Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var fullKey = FullKey(key);
        var metadata = UserMetadata.Normalize(options?.Metadata);
        StorageClassName.Validate(options?.StorageClass);
        var partSize = options?.PartSize ?? PutOptions.DefaultPartSize;
        if (partSize is < MinPartSize or > MaxPartSize)
            throw new ArgumentOutOfRangeException(nameof(options), $"PartSize {partSize} is outside {MinPartSize}..{MaxPartSize} bytes (S3's minimum part is 5 MiB; parts are buffered in memory).");
        await ReadyAsync();
        return new S3WriteStream(this, _rest, key, fullKey, options, metadata, (int)partSize);
    }

    /// <summary>
    /// One PUT of a buffered object, as a signed request straight from the buffer (no copy).
    /// </summary>
    internal async Task<ObjectInfo> PutSingleAsync(string key, string fullKey, ReadOnlyMemory<byte> bytes, PutOptions? options,
        Dictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        var contentType = options?.ContentType ?? "application/octet-stream";
        var etag = await _rest.PutObjectAsync(fullKey, new ReadOnlyMemoryContent(bytes), contentType, metadata, options?.StorageClass, cancellationToken);
        return new ObjectInfo(key, bytes.Length, etag, DateTimeOffset.UtcNow, contentType, metadata, options?.StorageClass ?? ObjectInfo.StandardStorageClass);
    }

    /// <summary>One PUT whose body is read from the caller's stream as it is sent: no buffer, whatever the size.</summary>
    private async Task<ObjectInfo> PutStreamedAsync(string key, Stream content, long length, PutOptions options, CancellationToken cancellationToken)
    {
        var fullKey = FullKey(key);
        var metadata = UserMetadata.Normalize(options.Metadata);
        var storageClass = StorageClassName.Validate(options.StorageClass);
        var contentType = options.ContentType ?? "application/octet-stream";
        await ReadyAsync();
        var body = new StreamContent(content, 1 << 16);
        body.Headers.ContentLength = length;
        string etag;
        try
        {
            etag = await _rest.PutObjectAsync(fullKey, body, contentType, metadata, storageClass, cancellationToken);
        }
        catch (Exception e) when (CallerError(e) is { } callerError)
        {
            // The content was not what the caller announced; HttpClient wraps what the content stream threw.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(callerError).Throw();
            throw;
        }
        return new ObjectInfo(key, length, etag, DateTimeOffset.UtcNow, contentType, metadata, storageClass ?? ObjectInfo.StandardStorageClass);
    }

    private static ArgumentException? CallerError(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is ArgumentException a)
                return a;
        return null;
    }

    public void Dispose() => _rest.Dispose();

    private string FullKey(string key) => _location.Prefix + ObjectKey.Validate(key);

    private string Relative(string fullKey) => fullKey.StartsWith(_location.Prefix, StringComparison.Ordinal) ? fullKey[_location.Prefix.Length..] : fullKey;

    private Task ReadyAsync() => _bucketReady?.Value ?? Task.CompletedTask;

    private async Task CreateBucketIfMissingAsync()
    {
        if (!await _rest.BucketExistsAsync(CancellationToken.None))
            await _rest.CreateBucketAsync(CancellationToken.None);
    }

    /// <summary>What a GET or HEAD response says of the object; S3 sends no storage class header for STANDARD.</summary>
    private static ObjectInfo InfoOf(string key, HttpResponseMessage response, long size)
    {
        var content = response.Content.Headers;
        var storageClass = response.Headers.TryGetValues("x-amz-storage-class", out var classes) ? classes.FirstOrDefault() : null;
        return new ObjectInfo(key, size, ETag.Unquote(response.Headers.ETag?.Tag),
            content.LastModified?.ToUniversalTime() ?? DateTimeOffset.MinValue, content.ContentType?.ToString(), UserMetadataOf(response),
            string.IsNullOrEmpty(storageClass) ? ObjectInfo.StandardStorageClass : storageClass);
    }

    private static Dictionary<string, string>? UserMetadataOf(HttpResponseMessage response)
    {
        // NonValidated: the validating enumerator would parse every response header (Date, Last-Modified...) to find these.
        Dictionary<string, string>? metadata = null;
        foreach (var (name, values) in response.Headers.NonValidated)
            if (name.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
                (metadata ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase))[name["x-amz-meta-".Length..].ToLowerInvariant()] = string.Join(",", values);
        return metadata;
    }
}
