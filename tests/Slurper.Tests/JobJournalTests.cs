using DataPlane.Slurper.Journal;
using DataPlane.Storage;
using DataPlane.TestServices;
using Xunit;

namespace DataPlane.Slurper.Tests;

public class JobJournalTests
{
    static JobJournal NewJournal(out string path, TimeProvider? time = null)
    {
        path = Path.Combine(TestOptions.TempDir(), "j.db");
        var j = JobJournal.Open(path, time);
        j.BeginRun("job", "s3://a", "s3://b", 4);
        return j;
    }

    static WorkItem[] Items(int n) => Enumerable.Range(0, n).Select(i => new WorkItem($"k{i:000}", i, "e" + i)).ToArray();

    [Fact]
    public void A_page_listed_twice_is_enqueued_once()
    {
        using var j = NewJournal(out _);
        Assert.True(j.EnqueuePage("h1", Items(10), []));
        Assert.False(j.EnqueuePage("h1", Items(10), []));
        var s = j.Status();
        Assert.Equal(10, s.Count(ObjectState.Pending));
        Assert.Equal(1, s.DuplicatePages);
    }

    [Fact]
    public void Leases_hand_each_object_to_one_worker_and_an_expired_lease_returns_the_batch()
    {
        var time = new ManualTime();
        using var j = NewJournal(out _, time);
        j.EnqueuePage("h", Items(100), []);
        var a = j.Lease("host:1:a", 60, TimeSpan.FromSeconds(30), 0);
        var b = j.Lease("host:1:b", 60, TimeSpan.FromMinutes(5), 2);
        Assert.Equal(60, a.Count);
        Assert.Equal(40, b.Count);
        Assert.Empty(a.Select(i => i.Key).Intersect(b.Select(i => i.Key)));
        Assert.Empty(j.Lease("host:1:c", 10, TimeSpan.FromMinutes(5), 0));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, j.ReleaseAbandonedLeases());
        time.Advance(TimeSpan.FromSeconds(2)); // worker a "died": its lease runs out, b's does not
        Assert.Equal(60, j.ReleaseAbandonedLeases());
        var c = j.Lease("host:1:c", 100, TimeSpan.FromMinutes(5), 0);
        Assert.Equal(a.Select(i => i.Key).Order(), c.Select(i => i.Key).Order());
    }

    [Fact]
    public void A_lease_held_by_a_process_of_this_machine_that_is_gone_is_released_at_once()
    {
        using var j = NewJournal(out _);
        j.EnqueuePage("h", Items(5), []);
        j.Lease($"{Environment.MachineName}:{int.MaxValue - 1}:x", 5, TimeSpan.FromMinutes(5), 0);
        Assert.Equal(5, j.ReleaseAbandonedLeases());
    }

    [Fact]
    public void Failures_back_off_then_go_to_the_dead_letter_list_with_the_last_error()
    {
        var time = new ManualTime();
        using var j = NewJournal(out _, time);
        j.EnqueuePage("h", Items(1), []);
        var retry = new RetryPolicy { MaxAttempts = 2, BaseDelay = TimeSpan.FromMinutes(1) };
        var item = j.Lease("o", 1, TimeSpan.FromMinutes(1), 0).Single();
        Assert.Empty(j.Record([CopyOutcome.Failure(item, "first")], retry));
        Assert.Empty(j.Lease("o", 1, TimeSpan.FromMinutes(1), 0)); // not before its backoff
        Assert.InRange(j.NextRetryAt!.Value, time.GetUtcNow().AddSeconds(15), time.GetUtcNow().AddSeconds(30)); // half to all of min(30 s cap, 1 min)
        time.Advance(TimeSpan.FromSeconds(14));
        Assert.Empty(j.Lease("o", 1, TimeSpan.FromMinutes(1), 0));
        time.Advance(TimeSpan.FromSeconds(17));
        item = Assert.Single(j.Lease("o", 1, TimeSpan.FromMinutes(1), 0)); // its backoff is over
        var dead = j.Record([CopyOutcome.Failure(item with { Attempts = 1 }, "second")], retry);
        Assert.Single(dead);
        var failure = Assert.Single(j.Status().Failures);
        Assert.Equal(("k000", 2, "second"), failure);
        Assert.Equal(0, j.Unfinished);
    }

    [Fact]
    public void A_finished_job_run_again_starts_afresh_and_another_jobs_journal_is_refused()
    {
        using var j = NewJournal(out var path);
        j.EnqueuePage("h", Items(3), []);
        j.MarkListingComplete();
        j.FinishRun();
        Assert.False(j.BeginRun("job", "s3://a", "s3://b", 4));
        Assert.Equal(0, j.Status().Total);
        Assert.Equal(2, j.Status().Run);
        var e = Assert.Throws<InvalidOperationException>(() => j.BeginRun("job", "s3://a", "s3://c", 4));
        Assert.Contains("s3://c", e.Message);
    }
}
