using System.Security.Cryptography;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>Filling a bucket and checking, by reading every byte on both sides, that a copy is exact.</summary>
internal static class S3TestData
{
    public static S3Options Options(string endpoint) => new() { Endpoint = endpoint, AccessKey = "S3RVER", SecretKey = "S3RVER" };
    public static S3Options Options(S3Server server) => new() { Endpoint = server.Endpoint, AccessKey = server.AccessKey, SecretKey = server.SecretKey };

    public static StoreEndpoint Endpoint(string bucket, S3Options options) => new($"s3://{bucket}", options);

    /// <summary>Small objects spread over three levels of prefixes; every 50th has a content type and user metadata.</summary>
    public static IEnumerable<(string Key, int Size)> SmallObjects(int count, int minSize = 1024, int maxSize = 4096) =>
        Enumerable.Range(0, count).Select(i => ($"t{i % 10}/u{i / 10 % 10}/v{i / 100 % 10}/obj-{i:00000}.dat", minSize + (int)((uint)(i * 2654435761u) % (uint)(maxSize - minSize + 1))));

    public static async Task PutAllAsync(IObjectStore store, IEnumerable<(string Key, int Size)> objects, int concurrency = 32)
    {
        await Parallel.ForEachAsync(objects, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (o, ct) =>
        {
            var data = RandomNumberGenerator.GetBytes(o.Size);
            var options = o.Key.GetHashCode() % 50 == 0
                ? new PutOptions { ContentType = "application/x-test", Metadata = new Dictionary<string, string> { ["origin"] = "slurp-test", ["key-length"] = o.Key.Length.ToString() } }
                : null;
            await store.PutAsync(o.Key, new MemoryStream(data), options, ct);
        });
    }

    /// <summary>A big object written through a stream, so the test itself never holds it whole.</summary>
    public static async Task PutLargeAsync(IObjectStore store, string key, long size, int seed)
    {
        await using var writer = await store.OpenWriteAsync(key, new PutOptions { ContentType = "application/octet-stream", Metadata = new Dictionary<string, string> { ["big"] = "yes" } });
        var rng = new Random(seed);
        var buffer = new byte[1 << 20];
        for (long written = 0; written < size; written += buffer.Length)
        {
            rng.NextBytes(buffer);
            await writer.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written)));
        }
        await writer.CompleteAsync();
    }

    static async Task<(byte[] Md5, ObjectInfo Info)> ReadAsync(IObjectStore store, string key)
    {
        await using var s = await store.GetAsync(key);
        return (await MD5.HashDataAsync(s), s.Object);
    }

    /// <summary>Reads every listed source object and its copy and compares bytes (by MD5 of the streams), size,
    /// content type and user metadata.</summary>
    public static async Task AssertCopiedAsync(IObjectStore source, IObjectStore destination, Func<string, bool>? except = null)
    {
        var keys = new List<ObjectInfo>();
        await foreach (var o in source.ListAsync("")) if (except?.Invoke(o.Key) != true) keys.Add(o);
        Assert.NotEmpty(keys);
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (o, _) =>
        {
            Assert.True(await destination.HeadAsync(o.Key) is not null, $"{o.Key} is missing at the destination");
            var (originalMd5, original) = await ReadAsync(source, o.Key);
            var (copyMd5, copy) = await ReadAsync(destination, o.Key);
            Assert.Equal(o.Size, copy.Size);
            Assert.Equal(Convert.ToHexString(originalMd5), Convert.ToHexString(copyMd5));
            Assert.Equal(original.ContentType, copy.ContentType);
            var expected = (original.Metadata ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key).ToList();
            var actual = (copy.Metadata ?? new Dictionary<string, string>()).Where(kv => kv.Key != "dataplane-md5").OrderBy(kv => kv.Key).ToList();
            Assert.Equal(expected, actual);
        });
    }
}
