using System.Collections.Concurrent;
using DataPlane.Storage.S3;
using DataPlane.TestServices;
using Minio.DataModel.Args;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>
/// The contract again with virtual-hosted addressing (<c>bucket.s3.localhost:PORT/key</c>) and temporary credentials (a
/// session token), against the real S3 server: the server takes the bucket from the Host header. The host alias on
/// loopback is the test server's connect callback, since no resolver here knows *.localhost names. s3rver accepts any
/// signature and token, so <see cref="SigV4Tests"/> checks those against AWS's published examples.
/// </summary>
[Collection(S3Collection.Name)]
public sealed class S3VirtualHostedObjectStoreTests(S3ServerFixture s3) : ObjectStoreContract
{
    private readonly ConcurrentDictionary<string, bool> _hostsConnected = new();
    private string _bucket = "";

    protected override async Task<IObjectStore> OpenFreshStoreAsync()
    {
        _bucket = await s3.CreateBucketAsync("vhost");
        return Open($"s3://{_bucket}/warehouse");
    }

    private S3ObjectStore Open(string location, bool createBucket = false)
    {
        var endpoint = s3.Server.VirtualHostedEndpoint
            ?? throw new InvalidOperationException("An external S3 server's virtual-host domain is not known: these tests need s3rver or MinIO started by the fixture.");
        var options = new S3Options
        {
            Endpoint = endpoint, AccessKey = s3.AccessKey, SecretKey = s3.SecretKey, SessionToken = "temporary-session-token",
            Region = s3.Region, PathStyle = false, CreateBucket = createBucket,
        };
        return new S3ObjectStore(S3Location.Parse(location), options, (context, ct) =>
        {
            _hostsConnected[context.DnsEndPoint.Host] = true;
            return s3.Server.ConnectToServerAsync(context, ct);
        });
    }

    protected override bool ReportsPartLayouts => s3.Server.Kind != "s3rver";

    [Fact]
    public async Task Requests_name_the_bucket_in_the_host_and_the_server_files_objects_under_it()
    {
        await Store.PutAsync("db/t/data/f.parquet", new MemoryStream(TestData.Bytes(100, seed: 21)));

        Assert.Equal([$"{_bucket}.{S3Server.VirtualHostDomain}"], _hostsConnected.Keys);
        // Read back path-style by another client: the object is in the bucket the host named, under the prefix.
        using var client = s3.CreateClient();
        var stat = await client.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject("warehouse/db/t/data/f.parquet"));
        Assert.Equal(100, stat.Size);
    }

    [Fact]
    public async Task Open_creates_the_bucket_named_by_the_host_when_asked()
    {
        var bucket = $"vcreated-{Guid.NewGuid():N}";
        using (var store = Open($"s3://{bucket}", createBucket: true))
            await store.PutAsync("k", new MemoryStream([7]));

        using var client = s3.CreateClient();
        Assert.True(await client.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket)));
        Assert.Equal(1, (await client.StatObjectAsync(new StatObjectArgs().WithBucket(bucket).WithObject("k"))).Size);
    }

    [Fact]
    public void An_address_endpoint_cannot_be_virtual_hosted_and_says_so()
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectStore.Open("s3://bucket/p",
            new S3Options { Endpoint = "http://127.0.0.1:9000", AccessKey = "a", SecretKey = "s", PathStyle = false }));
        Assert.Contains("http://127.0.0.1:9000", e.Message);
        Assert.Contains("path-style", e.Message);
    }
}
