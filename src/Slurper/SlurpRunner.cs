using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using DataPlane.Slurper.Copy;
using DataPlane.Slurper.Journal;
using DataPlane.Slurper.Kafka;
using DataPlane.Slurper.Listing;
using DataPlane.Slurper.Progress;
using DataPlane.Storage;

namespace DataPlane.Slurper;

/// <summary>
/// Runs a job on the embedded queue: listing workers feed pages into the journal as they arrive, a feeder leases
/// batches from it, copy workers copy and verify, and a recorder journals outcomes in batches (failures go back with
/// a backoff, or to the dead-letter list). With the Kafka queue it only lists and publishes; workers copy.
/// </summary>
public static class SlurpRunner
{
    public static string DefaultJobId(StoreEndpoint source, StoreEndpoint destination) =>
        "job-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source.Describe() + "\n" + destination.Describe())))[..12];

    public static async Task<SlurpResult> RunAsync(SlurpOptions options, CancellationToken cancellationToken = default)
    {
        using var source = options.Source.Open();
        using var destination = options.Destination.Open();
        return await RunAsync(options, source, destination, cancellationToken);
    }

    internal static async Task<SlurpResult> RunAsync(SlurpOptions options, IObjectStore source, IObjectStore destination, CancellationToken cancellationToken)
    {
        var jobId = options.JobId ?? DefaultJobId(options.Source, options.Destination);
        var output = options.Output ?? Console.Out;
        var journalPath = options.JournalPath ?? JobJournal.DefaultPath(jobId);
        if (options.DryRun)
            journalPath = Path.Combine(Path.GetTempPath(), $"dataplane-slurp-{jobId}-dryrun-{Guid.NewGuid():N}.db");

        using var journal = JobJournal.Open(journalPath);
        try
        {
            var resumed = journal.BeginRun(jobId, options.Source.Describe(), options.Destination.Describe(), options.QueuePartitions);
            if (resumed)
            {
                var before = journal.Status();
                output.WriteLine($"Resuming job {jobId}: {before.Count(ObjectState.Copied) + before.Count(ObjectState.SkippedExisting)} objects done, {before.Remaining} to do.");
            }
            if (options.Queue == QueueKind.Kafka)
            {
                var kafka = options.Kafka ?? throw new ArgumentException("The Kafka queue needs --kafka-brokers.");
                await KafkaJobPublisher.PublishAsync(jobId, source, options, kafka, journal, output, cancellationToken);
                return new SlurpResult(journal.Status(), journalPath, null, 0, 0);
            }
            var run = new EmbeddedRun(new ObjectCopier(source, destination, options), source, journal, options, output);
            await run.RunAsync(cancellationToken);
            var status = journal.Status();
            string? reportPath = null;
            if (options.DryRun)
            {
                foreach (var (key, size, state, _, reason) in journal.Entries(ObjectState.WouldCopy, ObjectState.SkippedExisting, ObjectState.SkippedTooLarge,
                             ObjectState.SkippedArchive, ObjectState.SkippedLink, ObjectState.SkippedInvalidKey))
                    output.WriteLine($"{(state == ObjectState.WouldCopy ? "would copy" : "skip (" + SlurpReport.Name(state) + ")")}\t{key}\t{size}" +
                        (state is ObjectState.SkippedLink or ObjectState.SkippedInvalidKey ? $"\t{reason}" : ""));
                output.WriteLine($"dry run: {status.Count(ObjectState.WouldCopy)} objects ({Units.Bytes(journal.Entries(ObjectState.WouldCopy).Sum(e => e.Size))}) would be copied; nothing was written.");
            }
            else
            {
                reportPath = options.ReportPath ?? Path.ChangeExtension(journalPath, ".report.tsv");
                SlurpReport.Write(reportPath, status, journal);
                output.WriteLine(status.Describe());
                output.WriteLine($"report: {reportPath}");
            }
            return new SlurpResult(status, journalPath, reportPath, run.Counters.CopiedObjects, run.BytesCopied);
        }
        finally
        {
            if (options.DryRun)
            {
                journal.Dispose();
                // Safe: a dry run's journal is made for it alone (a new GUID in its name, above), and nothing was copied.
                foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(journalPath + suffix);
            }
        }
    }

    /// <summary>Reads a job's standing from its journal.</summary>
    /// <summary>Where job journals are kept unless a run names another (<c>~/.dataplane/slurp</c>).</summary>
    public static string JournalDirectory => JobJournal.DefaultDirectory();

    public static JobStatus Status(string jobId, string? journalPath = null)
    {
        var path = journalPath ?? JobJournal.DefaultPath(jobId);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No journal for job '{jobId}' at '{path}'; jobs here: " +
                (Directory.Exists(JobJournal.DefaultDirectory())
                    ? string.Join(", ", Directory.GetFiles(JobJournal.DefaultDirectory(), "*.db").Select(Path.GetFileNameWithoutExtension))
                    : "none") + ".");
        using var journal = JobJournal.Open(path);
        return journal.Status();
    }

    /// <summary>How long the recorder lets copy outcomes gather before journaling them in one transaction.</summary>
    internal static readonly TimeSpan RecordInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the embedded feeder looks whether the work queue has room for another lease.</summary>
    static readonly TimeSpan QueuePoll = TimeSpan.FromMilliseconds(20);

    /// <summary>How many objects the embedded feeder leases from the journal at once.</summary>
    internal static int LeaseBatch(int concurrency) => Math.Clamp(concurrency * 4, 1, 1024);

    sealed class EmbeddedRun(ObjectCopier copier, IObjectStore source, JobJournal journal, SlurpOptions options, TextWriter output)
    {
        public SlurpCounters Counters { get; } = new();
        public long BytesCopied => bytesCopied;
        long bytesCopied;
        readonly string owner = JobJournal.LocalOwner();
        readonly SemaphoreSlim workArrived = new(0);

        public async Task RunAsync(CancellationToken ct)
        {
            journal.ReleaseAbandonedLeases();
            var before = journal.Status();
            Counters.Listed(before.Total, before.BytesTotal);
            Counters.Resumed(before.Total - before.Remaining, before.BytesTotal - before.BytesRemaining);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var interactive = options.Interactive ?? (!Console.IsOutputRedirected && options.Output is null);
            var progress = new ProgressReporter(Counters, output, interactive, options.LogInterval);
            var progressTask = options.DryRun ? Task.CompletedTask : progress.RunAsync(stop.Token);

            // Room for two leases: the feeder tops the queue up a batch at a time (see FeedAsync).
            var items = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(2 * LeaseBatch(options.Concurrency)) { SingleWriter = true });
            var outcomes = Channel.CreateUnbounded<CopyOutcome>(new UnboundedChannelOptions { SingleReader = true });
            try
            {
                var listing = journal.ListingComplete ? Task.CompletedTask : ListAsync(stop.Token);
                Counters.ListingDone = journal.ListingComplete;
                var feeder = FeedAsync(listing, items, stop.Token);
                var workers = Enumerable.Range(0, Math.Max(1, options.Concurrency))
                    .Select(_ => Task.Run(() => CopyLoopAsync(copier, items.Reader, outcomes.Writer, stop.Token), CancellationToken.None)).ToArray();
                var recorder = RecordAsync(outcomes.Reader, CancellationToken.None);
                try
                {
                    await listing;
                    await feeder;
                    await Task.WhenAll(workers);
                }
                catch
                {
                    stop.Cancel();
                    throw;
                }
                finally
                {
                    outcomes.Writer.TryComplete();
                    await recorder;
                    journal.ReleaseLeases(owner);
                }
                if (journal.Unfinished == 0 && !options.DryRun) journal.FinishRun();
            }
            finally
            {
                stop.Cancel();
                await progressTask;
            }
        }

        async Task ListAsync(CancellationToken ct)
        {
            var classifier = new ObjectClassifier(options);
            var lister = new KeySpaceLister(source, options.ListConcurrency);
            await lister.RunAsync((page, _) =>
            {
                var (toCopy, skipped) = classifier.Sort(page);
                if (journal.EnqueuePage(PageHash.Of(page), toCopy, skipped))
                {
                    Counters.Listed(toCopy.Count + skipped.Count, toCopy.Sum(i => i.Size) + skipped.Sum(s => s.Item.Size));
                    foreach (var (item, _, _) in skipped) Counters.Skipped(item.Size);
                    workArrived.Release();
                }
                else Counters.DuplicatePage();
                return ValueTask.CompletedTask;
            }, ct);
            journal.MarkListingComplete();
            Counters.ListingDone = true;
            workArrived.Release();
        }

        async Task FeedAsync(Task listing, Channel<WorkItem> queue, CancellationToken ct)
        {
            var items = queue.Writer;
            var leaseBatch = LeaseBatch(options.Concurrency);
            var partition = Random.Shared.Next(options.QueuePartitions);
            var lastRenew = DateTime.UtcNow;
            // Queued objects are leased too: their leases are kept alive while they wait for a copy worker.
            void RenewLeasesWhenDue()
            {
                if (DateTime.UtcNow - lastRenew <= options.Lease / 3) return;
                journal.RenewLeases(owner, options.Lease);
                journal.ReleaseAbandonedLeases();
                lastRenew = DateTime.UtcNow;
            }
            try
            {
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    RenewLeasesWhenDue();
                    // Several rounds of work per lease: each lease is a journal transaction that rewrites the pages its rows
                    // sit on, so bigger batches write fewer pages per object; the channel still hands out one item at a time.
                    var batch = journal.Lease(owner, leaseBatch, options.Lease, partition);
                    partition = (partition + 1) % options.QueuePartitions;
                    if (batch.Count > 0)
                    {
                        foreach (var item in batch) await items.WriteAsync(item, ct);
                        // Lease again once a batch has room: waiting for room item by item would wake this loop once per
                        // object; a batch still queued keeps the copy workers busy meanwhile.
                        while (queue.Reader.Count > leaseBatch)
                        {
                            await Task.Delay(QueuePoll, ct);
                            RenewLeasesWhenDue();
                        }
                        continue;
                    }
                    if (listing.IsCompleted && journal.Unfinished == 0) return;
                    if (listing.IsFaulted || listing.IsCanceled) return;
                    // Nothing to lease now: wait for a new page, a retry coming due, or a recorded outcome.
                    var wait = TimeSpan.FromMilliseconds(200);
                    if (journal.NextRetryAt is { } next && next - DateTimeOffset.UtcNow is { } untilRetry && untilRetry > TimeSpan.Zero && untilRetry < wait)
                        wait = untilRetry;
                    await workArrived.WaitAsync(wait, ct);
                }
            }
            finally
            {
                items.TryComplete();
            }
        }

        async Task CopyLoopAsync(ObjectCopier copier, ChannelReader<WorkItem> items, ChannelWriter<CopyOutcome> outcomes, CancellationToken ct)
        {
            await foreach (var item in items.ReadAllAsync(ct))
            {
                CopyOutcome outcome;
                try
                {
                    outcome = await copier.CopyAsync(item, ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    outcome = CopyOutcome.Failure(item, Describe(e));
                }
                await outcomes.WriteAsync(outcome, CancellationToken.None);
            }
        }

        async Task RecordAsync(ChannelReader<CopyOutcome> outcomes, CancellationToken ct)
        {
            var batch = new List<CopyOutcome>(512);
            while (await outcomes.WaitToReadAsync(ct))
            {
                // Let a batch build up: one transaction per many outcomes keeps the journal off the hot path (each commit
                // writes every page its rows touch). A crash loses at most this window of outcomes, whose objects are then
                // copied again.
                await Task.Delay(RecordInterval, ct);
                while (batch.Count < 2048 && outcomes.TryRead(out var o)) batch.Add(o);
                var dead = journal.Record(batch, options.Retry);
                foreach (var o in batch)
                {
                    if (o.Failed) continue;
                    if (o.State == ObjectState.Copied)
                    {
                        Counters.Copied(o.Bytes);
                        Interlocked.Add(ref bytesCopied, o.Bytes);
                    }
                    else Counters.Skipped(o.Item.Size);
                }
                foreach (var o in batch.Where(o => o.Failed)) Counters.Retried();
                foreach (var o in dead)
                {
                    Counters.Failed(o.Item.Size);
                    output.WriteLine($"FAILED {o.Item.Key} after {options.Retry.MaxAttempts} attempts: {o.Error}");
                }
                if (batch.Any(o => o.Failed)) workArrived.Release();
                batch.Clear();
            }
        }
    }

    internal static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;
        return $"{inner.GetType().Name}: {inner.Message}";
    }
}
