using System.Collections.Concurrent;
using System.Security.Cryptography;
using DataPlane.Storage;

namespace DataPlane.Slurper.Tests;

/// <summary>An S3-like store in memory for unit tests of the Slurper's logic: ETags as S3 makes them (MD5, or the
/// multipart ETag), listings in key order with start-after and delimiter, and hooks to inject faults.</summary>
internal sealed class InMemoryObjectStore(string name = "mem") : IObjectStore
{
    public sealed record Entry(byte[] Data, string ETag, string? ContentType, IReadOnlyDictionary<string, string>? Metadata, DateTimeOffset Modified,
        string StorageClass = ObjectInfo.StandardStorageClass, PartLayout? Parts = null);

    public readonly ConcurrentDictionary<string, Entry> Objects = new(StringComparer.Ordinal);
    public Func<string, Exception?> FailGet { get; set; } = _ => null;
    public Func<string, Exception?> FailPut { get; set; } = _ => null;
    public int ListRequests;
    public int PutRequests;
    public int GetRequests;
    public int HeadRequests;
    public int PartLayoutRequests;

    public Uri Location { get; } = new($"s3://{name}/");

    public void Add(string key, byte[] data, string? contentType = null, IReadOnlyDictionary<string, string>? metadata = null, string? etag = null,
        string storageClass = ObjectInfo.StandardStorageClass, PartLayout? parts = null) =>
        Objects[key] = new Entry(data, etag ?? Convert.ToHexStringLower(MD5.HashData(data)), contentType, metadata, DateTimeOffset.UtcNow, storageClass, parts);

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref PutRequests);
        var ms = new MemoryStream();
        await content.CopyToAsync(ms, cancellationToken);
        if (FailPut(key) is { } e) throw e;
        Add(key, ms.ToArray(), options?.ContentType, options?.Metadata);
        return Info(key, Objects[key]);
    }

    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public bool SupportsPutIfAbsent => false;

    public Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref GetRequests);
        if (FailGet(key) is { } e) throw e;
        if (!Objects.TryGetValue(key, out var entry)) throw new ObjectNotFoundException(key, Location);
        var offset = (int)(range?.Offset ?? 0);
        var length = (int)(range?.Length ?? entry.Data.Length - offset);
        length = Math.Min(length, entry.Data.Length - offset);
        return Task.FromResult(new ObjectBody(new MemoryStream(entry.Data, offset, length, writable: false), Info(key, entry), length));
    }

    public Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref PartLayoutRequests);
        return Task.FromResult(Objects.TryGetValue(key, out var e) ? e.Parts : null);
    }

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref HeadRequests);
        return Task.FromResult(Objects.TryGetValue(key, out var e) ? Info(key, e) : null);
    }

    static ObjectInfo Info(string key, Entry e) => new(key, e.Data.Length, "\"" + e.ETag + "\"", e.Modified, e.ContentType, e.Metadata, e.StorageClass);

    public Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref ListRequests);
        // As every real store does (S3ObjectStore among them): a prefix with a '..' segment is refused.
        prefix = ObjectKey.ValidatePrefix(prefix);
        var keys = Objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || string.CompareOrdinal(k, startAfter) > 0))
            .Order(StringComparer.Ordinal).ToList();
        var objects = new List<ObjectInfo>();
        var prefixes = new List<string>();
        string? last = null;
        foreach (var key in keys)
        {
            if (objects.Count + prefixes.Count == maxKeys) return Task.FromResult(new ListPage(objects, prefixes, last));
            var d = delimiter is null ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (d >= 0)
            {
                var common = key[..(d + delimiter!.Length)];
                if (prefixes.Count > 0 && prefixes[^1] == common) continue;
                prefixes.Add(common);
                // Past every key under the common prefix, as S3 continues after a rolled-up prefix.
                last = common + "\uffff";
                continue;
            }
            var entry = Objects[key];
            objects.Add(new ObjectInfo(key, entry.Data.Length, "\"" + entry.ETag + "\"", entry.Modified, StorageClass: entry.StorageClass));
            last = key;
        }
        return Task.FromResult(new ListPage(objects, prefixes, null));
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var page = await ListPageAsync(prefix, startAfter, 1000, null, cancellationToken);
            foreach (var o in page.Objects) yield return o;
            if (page.NextStartAfter is null) yield break;
            startAfter = page.NextStartAfter;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        Objects.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult<MultipartUpload>(new Upload(this, key, options));

    public Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public void Dispose() { }

    sealed class Upload(InMemoryObjectStore store, string key, PutOptions? options) : MultipartUpload
    {
        readonly ConcurrentDictionary<int, byte[]> parts = new();
        public override string Key => key;

        protected override async Task<string> UploadPartCoreAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken)
        {
            var ms = new MemoryStream();
            await content.CopyToAsync(ms, cancellationToken);
            if (store.FailPut(key) is { } e) throw e;
            parts[partNumber] = ms.ToArray();
            return "\"" + Convert.ToHexStringLower(MD5.HashData(ms.ToArray())) + "\"";
        }

        protected override Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken)
        {
            var ordered = parts.OrderBy(p => p.Key).Select(p => p.Value).ToList();
            var all = ordered.SelectMany(p => p).ToArray();
            var md5s = ordered.SelectMany(p => MD5.HashData(p)).ToArray();
            var etag = Convert.ToHexStringLower(MD5.HashData(md5s)) + "-" + ordered.Count;
            store.Add(key, all, options?.ContentType, options?.Metadata, etag,
                parts: ordered.Count > 1 ? new PartLayout(ordered.Count, ordered[0].Length) : null);
            return Task.FromResult(Info(key, store.Objects[key]));
        }

        protected override Task AbortCoreAsync() => Task.CompletedTask;
    }
}
