using DataPlane.Slurper.Journal;
using DataPlane.Storage;
using Xunit;

namespace DataPlane.Slurper.Tests;

/// <summary>The runner's logic on in-memory stores; the same behaviour against real S3 servers is in SlurpS3Tests.</summary>
public class SlurpRunnerTests
{
    static byte[] Bytes(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    static InMemoryObjectStore Source(int small = 300)
    {
        var src = new InMemoryObjectStore("src");
        for (var i = 0; i < small; i++) src.Add($"p{i % 7}/q{i % 3}/k{i:0000}", Bytes(100 + i, i), "text/plain", new Dictionary<string, string> { ["n"] = i.ToString() });
        return src;
    }

    static void AssertSameObjects(InMemoryObjectStore src, InMemoryObjectStore dst, Func<string, bool>? only = null)
    {
        var keys = src.Objects.Keys.Where(only ?? (_ => true)).ToList();
        foreach (var key in keys)
        {
            Assert.True(dst.Objects.TryGetValue(key, out var d), $"{key} missing at the destination");
            var s = src.Objects[key];
            Assert.Equal(s.Data, d.Data);
            Assert.Equal(s.ContentType, d.ContentType);
            // A multipart copy of a single-part object also carries the source MD5 (for --skip-existing).
            Assert.Equal(s.Metadata ?? new Dictionary<string, string>(),
                (d.Metadata ?? new Dictionary<string, string>()).Where(kv => kv.Key != "dataplane-md5").ToDictionary());
        }
    }

    [Fact]
    public async Task Copies_every_object_with_content_type_and_metadata_and_a_multipart_one()
    {
        var src = Source();
        src.Add("big/blob", Bytes(13 * 1024 * 1024 + 17, 99), "application/octet-stream", new Dictionary<string, string> { ["owner"] = "x" });
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()), src, dst, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(src.Objects.Count, result.ObjectsCopiedThisRun);
        AssertSameObjects(src, dst);
        Assert.EndsWith("-3", dst.Objects["big/blob"].ETag); // 13 MiB in 5 MiB parts
        Assert.Equal(src.Objects.Count, result.Status.Count(ObjectState.Copied));
    }

    /// <summary>A source object uploaded in parts, as S3 describes it: the multipart ETag of its parts and their layout.</summary>
    static void AddMultipart(InMemoryObjectStore store, string key, byte[] data, int partSize, string? etag = null)
    {
        var parts = (data.Length + partSize - 1) / partSize;
        var md5s = Enumerable.Range(0, parts).Select(i => System.Security.Cryptography.MD5.HashData(data.AsSpan(i * partSize, Math.Min(partSize, data.Length - i * partSize)))).ToList();
        store.Add(key, data, "application/x-test", new Dictionary<string, string> { ["kind"] = "multipart" },
            etag ?? Storage.ETag.Multipart(md5s), parts: new Storage.PartLayout(parts, partSize));
    }

    [Fact]
    public async Task A_multipart_source_is_copied_part_by_part_from_ranged_gets_in_its_own_layout()
    {
        var src = new InMemoryObjectStore("src");
        var data = Bytes(3 * 6 * 1024 * 1024 + 1234, 7); // four parts of 6 MiB, the last short
        AddMultipart(src, "big/parts", data, 6 * 1024 * 1024);
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()) with { PartConcurrency = 3 }, src, dst, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(data, dst.Objects["big/parts"].Data);
        Assert.Equal("application/x-test", dst.Objects["big/parts"].ContentType);
        Assert.Equal("multipart", dst.Objects["big/parts"].Metadata!["kind"]);
        // The same parts give the same multipart ETag: the copy is verifiably the source, without a whole-object pass.
        Assert.Equal(src.Objects["big/parts"].ETag, dst.Objects["big/parts"].ETag);
        Assert.Equal(4, src.GetRequests); // one ranged GET per part
    }

    [Fact]
    public async Task A_multipart_source_whose_parts_do_not_give_its_ETag_fails_verification()
    {
        var src = new InMemoryObjectStore("src");
        AddMultipart(src, "big/bad", Bytes(14 * 1024 * 1024, 8), 5 * 1024 * 1024, etag: new string('0', 32) + "-3");
        AddMultipart(src, "big/good", Bytes(14 * 1024 * 1024, 9), 5 * 1024 * 1024);
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()), src, dst, CancellationToken.None);

        var failure = Assert.Single(result.Status.Failures);
        Assert.Equal("big/bad", failure.Key);
        Assert.Contains("Verification", failure.Error);
        Assert.Equal(src.Objects["big/good"].Data, dst.Objects["big/good"].Data);
    }

    [Fact]
    public async Task A_multipart_source_that_changes_between_its_ranged_gets_is_not_reported_copied()
    {
        var src = new InMemoryObjectStore("src");
        AddMultipart(src, "big/moving", Bytes(14 * 1024 * 1024, 10), 5 * 1024 * 1024);
        var gets = 0;
        // After the first part is read, the object is overwritten (same size and layout, other bytes).
        src.FailGet = key =>
        {
            if (Interlocked.Increment(ref gets) == 2) AddMultipart(src, key, Bytes(14 * 1024 * 1024, 11), 5 * 1024 * 1024);
            return null;
        };
        var dst = new InMemoryObjectStore("dst");
        var options = TestOptions.For(TestOptions.TempDir()) with { PartConcurrency = 1, Retry = new RetryPolicy { MaxAttempts = 1 } };
        var result = await SlurpRunner.RunAsync(options, src, dst, CancellationToken.None);

        var failure = Assert.Single(result.Status.Failures);
        Assert.Contains("changed during the copy", failure.Error);
        Assert.Equal(0, result.ObjectsCopiedThisRun);
    }

    [Fact]
    public async Task Skip_existing_copies_nothing_the_second_time_but_a_changed_object_of_the_same_size_again()
    {
        var dir = TestOptions.TempDir();
        var src = Source();
        src.Add("big/blob", Bytes(13 * 1024 * 1024, 5));
        var dst = new InMemoryObjectStore("dst");
        var options = TestOptions.For(dir) with { SkipExisting = true };
        await SlurpRunner.RunAsync(options, src, dst, CancellationToken.None);
        var putsAfterFirst = dst.PutRequests;

        var second = await SlurpRunner.RunAsync(options, src, dst, CancellationToken.None);
        Assert.Equal(0, second.ObjectsCopiedThisRun);
        Assert.Equal(putsAfterFirst, dst.PutRequests);
        Assert.Equal(src.Objects.Count, second.Status.Count(ObjectState.SkippedExisting));

        var changed = src.Objects["p1/q1/k0001"].Data.ToArray();
        changed[0] ^= 0xFF;
        src.Add("p1/q1/k0001", changed, "text/plain");
        var third = await SlurpRunner.RunAsync(options, src, dst, CancellationToken.None);
        Assert.Equal(1, third.ObjectsCopiedThisRun);
        Assert.Equal(changed, dst.Objects["p1/q1/k0001"].Data);
    }

    [Fact]
    public async Task An_object_that_always_fails_ends_in_the_dead_letter_report_and_the_rest_is_copied()
    {
        var dir = TestOptions.TempDir();
        var src = Source();
        src.FailGet = key => key == "p3/q0/k0003" ? new IOException("disk on fire") : null;
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(dir), src, dst, CancellationToken.None);

        Assert.False(result.Succeeded);
        var failure = Assert.Single(result.Status.Failures);
        Assert.Equal("p3/q0/k0003", failure.Key);
        Assert.Equal(3, failure.Attempts);
        Assert.Contains("disk on fire", failure.Error);
        AssertSameObjects(src, dst, k => k != "p3/q0/k0003");
        var report = File.ReadAllLines(result.ReportPath!);
        Assert.Contains(report, l => l.StartsWith("failed\tp3/q0/k0003\t") && l.Contains("disk on fire"));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_and_the_object_copied()
    {
        var src = Source(50);
        var failures = 0;
        src.FailGet = key => key == "p0/q0/k0000" && Interlocked.Increment(ref failures) <= 2 ? new IOException("flaky") : null;
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()), src, dst, CancellationToken.None);
        Assert.True(result.Succeeded);
        AssertSameObjects(src, dst);
    }

    [Fact]
    public async Task Corrupted_bytes_fail_verification_and_are_never_reported_copied()
    {
        var src = Source(20);
        // The listing says one thing, the bytes another: what a bit flip in transit looks like.
        var e = src.Objects["p0/q0/k0000"];
        src.Objects["p0/q0/k0000"] = e with { ETag = new string('0', 32) };
        var dst = new InMemoryObjectStore("dst");
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()), src, dst, CancellationToken.None);
        var failure = Assert.Single(result.Status.Failures);
        Assert.Equal("p0/q0/k0000", failure.Key);
        Assert.Contains("Verification", failure.Error);
    }

    [Fact]
    public async Task Size_cap_archive_class_and_globs_decide_what_is_copied_and_skips_are_reported()
    {
        var src = Source(30);
        src.Add("huge.bin", Bytes(5000, 1));
        src.Add("cold/a", Bytes(10, 2), storageClass: "GLACIER");
        src.Add("tmp/x", Bytes(10, 3));
        var dst = new InMemoryObjectStore("dst");
        var options = TestOptions.For(TestOptions.TempDir()) with { MaxObjectSize = 1000, Exclude = ["tmp/**"] };
        var result = await SlurpRunner.RunAsync(options, src, dst, CancellationToken.None);

        Assert.False(dst.Objects.ContainsKey("huge.bin"));
        Assert.False(dst.Objects.ContainsKey("cold/a"));
        Assert.False(dst.Objects.ContainsKey("tmp/x"));
        Assert.Equal(30, result.Status.Count(ObjectState.Copied));
        var report = File.ReadAllText(result.ReportPath!);
        Assert.Contains("too-large\thuge.bin\t5000", report);
        Assert.Contains("archived\tcold/a", report);
        // The listing's storage class decides: the archived object is never even opened.
        Assert.Equal(30, src.GetRequests);
        Assert.Equal(0, src.HeadRequests);
        Assert.DoesNotContain("tmp/x", report);
    }

    [Fact]
    public async Task Dry_run_writes_nothing_and_lists_what_would_be_copied()
    {
        var src = Source(10);
        var dst = new InMemoryObjectStore("dst");
        var output = new StringWriter();
        var result = await SlurpRunner.RunAsync(TestOptions.For(TestOptions.TempDir()) with { DryRun = true, Output = output }, src, dst, CancellationToken.None);
        Assert.Empty(dst.Objects);
        Assert.Equal(10, result.Status.Count(ObjectState.WouldCopy));
        Assert.Contains("would copy\tp0/q0/k0000", output.ToString());
        Assert.False(File.Exists(result.JournalPath));
    }

    [Fact]
    public async Task A_run_interrupted_midway_resumes_and_copies_only_what_is_not_done()
    {
        var dir = TestOptions.TempDir();
        var src = Source(400);
        var dst = new InMemoryObjectStore("dst");
        using var cts = new CancellationTokenSource();
        var copied = 0;
        dst.FailPut = _ =>
        {
            if (Interlocked.Increment(ref copied) == 150) cts.Cancel();
            return null;
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SlurpRunner.RunAsync(TestOptions.For(dir), src, dst, cts.Token));
        var status = SlurpRunner.Status("test", Path.Combine(dir, "test.db"));
        Assert.Equal("running", status.State);
        var doneBefore = status.Count(ObjectState.Copied);
        Assert.InRange(doneBefore, 1, 399);

        dst.FailPut = _ => null;
        var putsBefore = dst.PutRequests;
        var result = await SlurpRunner.RunAsync(TestOptions.For(dir), src, dst, CancellationToken.None);
        Assert.True(result.Succeeded);
        Assert.Equal(400, result.Status.Count(ObjectState.Copied));
        // Only what the journal did not have as done is copied again (in-flight ones at the interruption may repeat).
        Assert.True(dst.PutRequests - putsBefore <= 400 - doneBefore + 16 + 1, $"{dst.PutRequests - putsBefore} puts after resuming with {doneBefore} done");
        AssertSameObjects(src, dst);
    }
}
