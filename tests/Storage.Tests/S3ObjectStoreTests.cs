using DataPlane.Storage.S3;
using DataPlane.TestServices;
using Minio.DataModel.Args;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>The contract against a real S3 server, each test in a bucket of its own, under a prefix (as a warehouse is).</summary>
[Collection(S3Collection.Name)]
public sealed class S3ObjectStoreTests(S3ServerFixture s3) : ObjectStoreContract
{
    private string _bucket = "";

    private S3Options Options => new() { Endpoint = s3.Endpoint, AccessKey = s3.AccessKey, SecretKey = s3.SecretKey, Region = s3.Region };

    protected override async Task<IObjectStore> OpenFreshStoreAsync()
    {
        _bucket = await s3.CreateBucketAsync("storage");
        return ObjectStore.Open($"s3://{_bucket}/warehouse", Options);
    }

    // s3rver ignores partNumber on a head; S3 and MinIO answer it.
    protected override bool ReportsPartLayouts => s3.Server.Kind != "s3rver";

    [Fact]
    public async Task Put_if_absent_is_refused_as_unsupported()
    {
        Assert.False(Store.SupportsPutIfAbsent);
        await Assert.ThrowsAsync<NotSupportedException>(() => Store.PutIfAbsentAsync("k", new MemoryStream([1])));
        Assert.Null(await Store.HeadAsync("k"));
    }

    [Fact]
    public async Task Objects_are_stored_under_the_location_prefix_in_the_bucket()
    {
        Assert.Equal(new Uri($"s3://{_bucket}/warehouse/"), Store.Location);
        await Store.PutAsync("db/t/data/f.parquet", new MemoryStream(TestData.Bytes(100, seed: 20)));

        using var client = s3.CreateClient();
        var stat = await client.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject("warehouse/db/t/data/f.parquet"));
        Assert.Equal(100, stat.Size);
    }

    [Fact]
    public async Task Open_creates_the_bucket_when_asked()
    {
        var bucket = $"created-{Guid.NewGuid():N}";
        using var store = ObjectStore.Open($"s3://{bucket}", Options with { CreateBucket = true });
        await store.PutAsync("k", new MemoryStream([7]));

        Assert.Equal([7], await TestData.ReadAllAsync(await store.GetAsync("k")));
    }

    [Theory]
    [InlineData("s3://Bad_Bucket/x")]
    [InlineData("s3://ab")]
    [InlineData("s3://bucket/../escape")]
    public void Open_refuses_invalid_s3_locations_naming_them(string location)
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectStore.Open(location, Options));
        Assert.Contains(location, e.Message);
    }

    [Fact]
    public void Open_without_s3_options_says_what_is_missing()
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectStore.Open("s3://bucket/prefix"));
        Assert.Contains("s3://bucket/prefix", e.Message);
        Assert.Contains("S3Options", e.Message);
    }

    [Fact]
    public void Open_reads_s3_locations_as_s3_stores()
    {
        using var store = ObjectStore.Open("s3://bucket/some/prefix", Options);
        Assert.IsType<S3ObjectStore>(store);
        Assert.Equal(new Uri("s3://bucket/some/prefix/"), store.Location);
    }

    [Fact]
    public async Task An_extra_server_is_independent_of_the_shared_one()
    {
        await using var other = await S3Server.StartAsync();
        Assert.NotEqual(s3.Endpoint, other.Endpoint);
        var bucket = await other.CreateBucketAsync("other");
        using var otherStore = ObjectStore.Open($"s3://{bucket}", new S3Options { Endpoint = other.Endpoint, AccessKey = other.AccessKey, SecretKey = other.SecretKey });
        await otherStore.PutAsync("only-here", new MemoryStream([1]));

        Assert.NotNull(await otherStore.HeadAsync("only-here"));
        Assert.Null(await Store.HeadAsync("only-here"));
    }
}
