using DataPlane.Slurper.Journal;
using DataPlane.Storage;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Slurper.Tests;

/// <summary>The Slurper between two real S3 servers.</summary>
public class SlurpS3Tests(TwoS3Servers servers, ITestOutputHelper log) : IClassFixture<TwoS3Servers>
{
    const long FiftyMegabytes = 50L * 1024 * 1024;

    SlurpOptions Options(string sourceBucket, string destinationBucket, string journalDir) => new()
    {
        Source = S3TestData.Endpoint(sourceBucket, S3TestData.Options(servers.Source)),
        Destination = S3TestData.Endpoint(destinationBucket, S3TestData.Options(servers.Destination)),
        JournalPath = Path.Combine(journalDir, "job.db"),
        Output = new StringWriter(),
        Interactive = false,
        Concurrency = 64,
    };

    [Fact]
    public async Task Ten_thousand_small_and_three_50MB_objects_are_copied_exactly_then_skip_existing_copies_nothing_and_a_changed_object_again()
    {
        var sourceBucket = await servers.Source.CreateBucketAsync("slurp-src");
        var destinationBucket = await servers.Destination.CreateBucketAsync("slurp-dst");
        using var source = ObjectStore.Open($"s3://{sourceBucket}", S3TestData.Options(servers.Source));
        using var destination = ObjectStore.Open($"s3://{destinationBucket}", S3TestData.Options(servers.Destination));
        await S3TestData.PutAllAsync(source, S3TestData.SmallObjects(10_000));
        for (var i = 0; i < 3; i++) await S3TestData.PutLargeAsync(source, $"large/blob-{i}.bin", FiftyMegabytes + i * 12345, i);
        var dir = TestOptions.TempDir();
        var options = Options(sourceBucket, destinationBucket, dir);

        var first = await SlurpRunner.RunAsync(options);
        log.WriteLine(first.Status.Describe());
        Assert.True(first.Succeeded, first.Status.Describe());
        Assert.Equal(10_003, first.ObjectsCopiedThisRun);
        await S3TestData.AssertCopiedAsync(source, destination);

        var second = await SlurpRunner.RunAsync(options with { SkipExisting = true });
        Assert.Equal(0, second.ObjectsCopiedThisRun);
        Assert.Equal(10_003, second.Status.Count(ObjectState.SkippedExisting));

        // Same size, different bytes: only the ETag tells.
        var changedKey = S3TestData.SmallObjects(10_000).ElementAt(4242);
        var changed = new byte[changedKey.Size];
        Random.Shared.NextBytes(changed);
        await source.PutAsync(changedKey.Key, new MemoryStream(changed));
        var third = await SlurpRunner.RunAsync(options with { SkipExisting = true });
        Assert.Equal(1, third.ObjectsCopiedThisRun);
        await using var copy = await destination.GetAsync(changedKey.Key);
        var copied = new MemoryStream();
        await copy.CopyToAsync(copied);
        Assert.Equal(changed, copied.ToArray());
    }

    [Fact]
    public async Task Dry_run_lists_what_would_be_copied_from_a_real_server_and_writes_nothing()
    {
        var sourceBucket = await servers.Source.CreateBucketAsync("slurp-src");
        var destinationBucket = await servers.Destination.CreateBucketAsync("slurp-dst");
        using var source = ObjectStore.Open($"s3://{sourceBucket}", S3TestData.Options(servers.Source));
        using var destination = ObjectStore.Open($"s3://{destinationBucket}", S3TestData.Options(servers.Destination));
        await S3TestData.PutAllAsync(source, S3TestData.SmallObjects(30));
        var output = new StringWriter();
        var result = await SlurpRunner.RunAsync(Options(sourceBucket, destinationBucket, TestOptions.TempDir()) with
        {
            DryRun = true,
            Output = output,
            Include = ["t1/**", "t2/**"],
            MaxObjectSize = 3000,
        });
        Assert.Empty((await destination.ListPageAsync("")).Objects);
        var expected = S3TestData.SmallObjects(30).Where(o => o.Key.StartsWith("t1/") || o.Key.StartsWith("t2/")).ToList();
        Assert.Equal(expected.Count(o => o.Size <= 3000), result.Status.Count(ObjectState.WouldCopy));
        Assert.Equal(expected.Count(o => o.Size > 3000), result.Status.Count(ObjectState.SkippedTooLarge));
        foreach (var o in expected) Assert.Contains(o.Key, output.ToString());
    }
}
