using System.Text.RegularExpressions;
using DataPlane.Slurper.Journal;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;
using Xunit.Abstractions;

namespace DataPlane.Slurper.Tests;

/// <summary>Faults on real S3 servers: a destination that dies and comes back, a source object that is always
/// corrupt, and the slurp process itself killed with SIGKILL.</summary>
public class SlurpFaultTests(TwoS3Servers servers, ITestOutputHelper log) : IClassFixture<TwoS3Servers>
{
    static async Task WaitForCopiedAsync(string journal, long atLeast, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(journal))
            {
                try
                {
                    if (SlurpRunner.Status("job", journal).Count(ObjectState.Copied) >= atLeast) return;
                }
                catch (InvalidOperationException) { /* no job row yet */ }
                catch (Microsoft.Data.Sqlite.SqliteException) { /* busy; try again */ }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"fewer than {atLeast} objects copied within {timeout}");
    }

    [Fact]
    public async Task A_destination_killed_and_restarted_midjob_and_an_always_corrupt_source_object_leave_every_other_object_verified()
    {
        await using var sourceServer = await RestartableS3rver.StartAsync();
        await using var destinationServer = await RestartableS3rver.StartAsync();
        using var source = ObjectStore.Open("s3://src", S3TestData.Options(sourceServer.Endpoint) with { CreateBucket = true });
        using var destination = ObjectStore.Open("s3://dst", S3TestData.Options(destinationServer.Endpoint) with { CreateBucket = true });
        await S3TestData.PutAllAsync(source, S3TestData.SmallObjects(3000));
        await S3TestData.PutLargeAsync(source, "large/blob.bin", 40L * 1024 * 1024, 7);
        await source.PutAsync("bad/rotten.bin", new MemoryStream(new byte[4096]));
        // Bit rot behind the server's back: it still announces the original MD5 as the ETag.
        var rotten = sourceServer.ObjectFile("src", "bad/rotten.bin");
        await File.WriteAllBytesAsync(rotten, Enumerable.Repeat((byte)0x5A, 4096).ToArray());
        await destination.HeadAsync("nothing"); // creates the bucket before the job starts

        var dir = TestOptions.TempDir();
        var journal = Path.Combine(dir, "job.db");
        var options = new SlurpOptions
        {
            Source = S3TestData.Endpoint("src", S3TestData.Options(sourceServer.Endpoint)),
            Destination = S3TestData.Endpoint("dst", S3TestData.Options(destinationServer.Endpoint)),
            JobId = "job",
            JournalPath = journal,
            Output = new StringWriter(),
            Interactive = false,
            Concurrency = 32,
            Retry = new RetryPolicy { MaxAttempts = 8, BaseDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(3) },
        };
        var run = SlurpRunner.RunAsync(options);
        await WaitForCopiedAsync(journal, 500, TimeSpan.FromMinutes(2));
        destinationServer.Kill();
        var atKill = SlurpRunner.Status("job", journal);
        Assert.True(atKill.Remaining > 0 || !atKill.ListingComplete, "the destination must die while objects remain");
        await Task.Delay(1500);
        await destinationServer.RestartAsync();
        var result = await run;
        log.WriteLine(result.Status.Describe());

        var failure = Assert.Single(result.Status.Failures);
        Assert.Equal("bad/rotten.bin", failure.Key);
        Assert.Contains("Verification", failure.Error);
        Assert.Equal(0, result.Status.Remaining);
        Assert.Equal(3001, result.Status.Count(ObjectState.Copied));
        Assert.Contains(File.ReadAllLines(result.ReportPath!), l => l.StartsWith("failed\tbad/rotten.bin\t4096\t8\t"));
        await S3TestData.AssertCopiedAsync(source, destination, except: key => key == "bad/rotten.bin");
    }

    [Fact]
    public async Task The_slurp_process_killed_with_SIGKILL_and_run_again_copies_only_what_is_left()
    {
        var sourceBucket = await servers.Source.CreateBucketAsync("kill-src");
        var destinationBucket = await servers.Destination.CreateBucketAsync("kill-dst");
        using var source = ObjectStore.Open($"s3://{sourceBucket}", S3TestData.Options(servers.Source));
        using var destination = ObjectStore.Open($"s3://{destinationBucket}", S3TestData.Options(servers.Destination));
        await S3TestData.PutAllAsync(source, S3TestData.SmallObjects(3000));
        var dir = TestOptions.TempDir();
        var journal = Path.Combine(dir, "job.db");
        string[] args =
        [
            "slurp", "--from", $"s3://{sourceBucket}", "--to", $"s3://{destinationBucket}", "--job", "job", "--journal", journal,
            "--concurrency", "16", "--progress", "log", "--log-interval", "1",
        ];
        var credentials = new Dictionary<string, string>
        {
            // Endpoints and keys from the environment, as a deployment would pass secrets.
            ["DATAPLANE_SLURP_FROM_ENDPOINT"] = servers.Source.Endpoint,
            ["DATAPLANE_SLURP_FROM_ACCESS_KEY"] = servers.Source.AccessKey,
            ["DATAPLANE_SLURP_FROM_SECRET_KEY"] = servers.Source.SecretKey,
            ["DATAPLANE_SLURP_TO_ENDPOINT"] = servers.Destination.Endpoint,
            ["DATAPLANE_SLURP_TO_ACCESS_KEY"] = servers.Destination.AccessKey,
            ["DATAPLANE_SLURP_TO_SECRET_KEY"] = servers.Destination.SecretKey,
        };
        using (var first = DataPlaneProcess.Start(args, environment: credentials))
        {
            await WaitForCopiedAsync(journal, 300, TimeSpan.FromMinutes(2));
            await first.KillAsync();
            await first.WaitAsync(TimeSpan.FromSeconds(30));
            log.WriteLine(first.Output);
        }
        var atKill = SlurpRunner.Status("job", journal);
        Assert.Equal("running", atKill.State);
        var doneAtKill = atKill.Count(ObjectState.Copied);
        Assert.InRange(doneAtKill, 300, 2999);

        using var second = DataPlaneProcess.Start(args, environment: credentials);
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromMinutes(3)));
        log.WriteLine(second.Output);
        var resumed = Regex.Match(second.Output, @"Resuming job job: (\d+) objects done");
        Assert.True(resumed.Success, second.Output);
        Assert.True(long.Parse(resumed.Groups[1].Value) >= doneAtKill);
        var status = SlurpRunner.Status("job", journal);
        Assert.Equal("finished", status.State);
        Assert.Equal(3000, status.Count(ObjectState.Copied));
        await S3TestData.AssertCopiedAsync(source, destination);
    }
}
