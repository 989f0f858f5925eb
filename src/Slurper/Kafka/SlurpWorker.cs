using Confluent.Kafka;
using DataPlane.Slurper.Copy;
using DataPlane.Slurper.Journal;
using DataPlane.Slurper.Kafka;
using DataPlane.Slurper.Progress;

namespace DataPlane.Slurper;

/// <summary>
/// A worker on the distributed queue. Every worker of a job joins one consumer group, so each partition, and each
/// object, is copied by one worker. Offsets are committed only below the lowest copy still running, and when
/// partitions are taken away in a rebalance the worker first finishes their copies and commits: a new owner starts
/// exactly where this one stopped. Failures are retried in place with backoff and jitter, then dead-lettered in this
/// worker's journal. A worker exits when the job is fully published and every partition's committed offset is at its end.
/// </summary>
public static class SlurpWorker
{
    public static async Task<SlurpResult> RunAsync(SlurpWorkerOptions options, CancellationToken cancellationToken = default)
    {
        var output = options.Output ?? Console.Out;
        var kafka = options.Kafka;
        var spec = await Kafka.SpecReader.WaitForSpecAsync(options.JobId, kafka, options.WaitForJob, output, cancellationToken);
        var slurp = new SlurpOptions
        {
            Source = options.ResolveEndpoint("from", spec.Source, spec.SourceEndpoint),
            Destination = options.ResolveEndpoint("to", spec.Destination, spec.DestinationEndpoint),
            JobId = options.JobId,
            SkipExisting = spec.SkipExisting,
            MultipartThreshold = spec.MultipartThreshold,
            PartSize = spec.PartSize,
            Concurrency = options.Concurrency,
            PartConcurrency = options.PartConcurrency,
            Retry = options.Retry,
        };
        var journalPath = options.JournalPath ?? JobJournal.DefaultPath(options.JobId + ".worker");
        using var source = slurp.Source.Open();
        using var destination = slurp.Destination.Open();
        using var journal = JobJournal.Open(journalPath);
        journal.BeginRun(options.JobId, slurp.Source.Describe(), slurp.Destination.Describe(), 1);
        var counters = new SlurpCounters();
        var copier = new ObjectCopier(source, destination, slurp);
        await using var batcher = new JournalBatcher(journal, options.Retry, Environment.MachineName + ":" + Environment.ProcessId);
        var run = new Run(options, kafka, journal, batcher, copier, counters, output);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var interactive = options.Interactive ?? (!Console.IsOutputRedirected && options.Output is null);
        var progress = new ProgressReporter(counters, output, interactive, options.LogInterval).RunAsync(stop.Token);
        try
        {
            await Task.Factory.StartNew(() => run.ConsumeLoop(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
        finally
        {
            stop.Cancel();
            await progress;
        }
        journal.FinishRun();
        var status = journal.Status();
        var reportPath = options.ReportPath ?? Path.ChangeExtension(journalPath, ".report.tsv");
        SlurpReport.Write(reportPath, status, journal);
        output.WriteLine(status.Describe());
        output.WriteLine($"report: {reportPath}");
        return new SlurpResult(status, journalPath, reportPath, counters.CopiedObjects, counters.DoneBytes);
    }

    sealed class Run(SlurpWorkerOptions options, KafkaSettings kafka, JobJournal journal, JournalBatcher batcher, ObjectCopier copier,
        SlurpCounters counters, TextWriter output)
    {
        readonly Dictionary<TopicPartition, PartitionProgress> progress = [];
        readonly Dictionary<TopicPartition, List<Task>> running = [];
        readonly Lock gate = new();
        readonly SemaphoreSlim slots = new(Math.Max(1, options.Concurrency));
        readonly string topic = KafkaSettings.TopicFor(options.JobId);
        // Set once the job is done and everything is committed: the revocation that leaving the group triggers must not commit
        // again, as a synchronous commit from inside Close's rebalance callback can wait forever (seen with a rebalance under way).
        volatile bool leaving;

        public async Task ConsumeLoop(CancellationToken ct)
        {
            var consumer = new ConsumerBuilder<string, string>(KafkaClients.Consumer(kafka, KafkaSettings.GroupFor(options.JobId)))
                .SetLogHandler((_, m) => KafkaClients.Log(output, m))
                .SetPartitionsRevokedHandler((c, revoked) => Drain(c, revoked.Select(r => r.TopicPartition).ToList()))
                .SetPartitionsLostHandler((c, lost) => Forget(lost.Select(r => r.TopicPartition).ToList()))
                .Build();
            using var admin = new AdminClientBuilder(KafkaClients.Admin(kafka)).SetLogHandler((_, m) => KafkaClients.Log(output, m)).Build();
            var partitionCount = await KafkaClients.EnsureTopicAsync(admin, topic, ct);
            consumer.Subscribe(topic);
            var lastCommit = DateTime.UtcNow;
            var idleSince = DateTime.UtcNow;
            var lastDoneCheck = DateTime.MinValue;
            try
            {
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    ConsumeResult<string, string>? record;
                    try
                    {
                        record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    }
                    catch (ConsumeException e) when (!e.Error.IsFatal)
                    {
                        output.WriteLine($"kafka: {e.Error.Reason}");
                        continue;
                    }
                    if (record is { IsPartitionEOF: false, Message: not null })
                    {
                        idleSince = DateTime.UtcNow;
                        await slots.WaitAsync(ct);
                        Start(record);
                    }
                    if (DateTime.UtcNow - lastCommit > TimeSpan.FromMilliseconds(500))
                    {
                        Commit(consumer, null);
                        lastCommit = DateTime.UtcNow;
                    }
                    if (record is null && DateTime.UtcNow - idleSince > TimeSpan.FromSeconds(1) && DateTime.UtcNow - lastDoneCheck > TimeSpan.FromSeconds(1))
                    {
                        lastDoneCheck = DateTime.UtcNow;
                        if (IdleLocally() && await JobDoneAsync(consumer, partitionCount, ct))
                        {
                            output.WriteLine("job done: every partition committed to its end; leaving the group");
                            break;
                        }
                    }
                }
                Commit(consumer, null);
            }
            finally
            {
                leaving = true;
                Leave(consumer);
            }
        }

        void Start(ConsumeResult<string, string> record)
        {
            var tp = record.TopicPartition;
            var offset = record.Offset.Value;
            var item = Kafka.WorkMessage.Parse(record.Message.Key, record.Message.Value);
            lock (gate)
            {
                if (!progress.TryGetValue(tp, out var p)) progress[tp] = p = new PartitionProgress();
                p.Started(offset);
                if (!running.TryGetValue(tp, out var list)) running[tp] = list = [];
                list.RemoveAll(t => t.IsCompleted);
                list.Add(Task.Run(async () =>
                {
                    try
                    {
                        await CopyWithRetriesAsync(item);
                    }
                    finally
                    {
                        lock (gate) p.Finished(offset);
                        slots.Release();
                    }
                }));
            }
        }

        async Task CopyWithRetriesAsync(WorkItem item)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var outcome = await copier.CopyAsync(item, CancellationToken.None);
                    // One transaction for the outcomes of many concurrent copies; the offset moves past this object only after it.
                    await batcher.RecordAsync(outcome);
                    if (outcome.State == ObjectState.Copied) counters.Copied(outcome.Bytes);
                    else counters.Skipped(item.Size);
                    return;
                }
                catch (Exception e)
                {
                    if (options.Retry.IsExhausted(attempt))
                    {
                        journal.Record([CopyOutcome.Failure(item with { Attempts = attempt - 1 }, SlurpRunner.Describe(e))], options.Retry);
                        counters.Failed(item.Size);
                        output.WriteLine($"FAILED {item.Key} after {attempt} attempts: {SlurpRunner.Describe(e)}");
                        return;
                    }
                    counters.Retried();
                    await Task.Delay(options.Retry.DelayAfter(attempt));
                }
            }
        }

        /// <summary>Before partitions move to another worker: finish what is running on them and commit, so the new
        /// owner neither repeats nor skips an object.</summary>
        void Drain(IConsumer<string, string> consumer, List<TopicPartition> revoked)
        {
            List<Task> waiting;
            lock (gate) waiting = revoked.SelectMany(tp => running.TryGetValue(tp, out var l) ? l : []).ToList();
            Task.WaitAll(waiting.ToArray());
            if (!leaving) Commit(consumer, revoked);
            lock (gate)
                foreach (var tp in revoked)
                {
                    progress.Remove(tp);
                    running.Remove(tp);
                }
        }

        /// <summary>Leaves the group, bounded: leaving is best effort (the broker ends the session after its timeout anyway),
        /// and a worker whose job is done must exit even when the client's close does not return.</summary>
        void Leave(IConsumer<string, string> consumer)
        {
            var closing = Task.Run(() =>
            {
                try { consumer.Close(); } catch (KafkaException) { }
            });
            if (closing.Wait(LeaveTimeout))
                consumer.Dispose();
            else
                output.WriteLine($"kafka: leaving the group did not finish within {LeaveTimeout.TotalSeconds:0} s; the broker ends this worker's session after its timeout");
        }

        static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(15);

        void Forget(List<TopicPartition> lost)
        {
            lock (gate)
                foreach (var tp in lost)
                {
                    progress.Remove(tp);
                    running.Remove(tp);
                }
        }

        void Commit(IConsumer<string, string> consumer, List<TopicPartition>? only)
        {
            List<TopicPartitionOffset> offsets;
            lock (gate)
                offsets = progress.Where(kv => (only is null || only.Contains(kv.Key)) && kv.Value.CommitOffset >= 0)
                    .Select(kv => new TopicPartitionOffset(kv.Key, kv.Value.CommitOffset)).ToList();
            if (offsets.Count == 0) return;
            try
            {
                consumer.Commit(offsets);
            }
            catch (KafkaException e)
            {
                output.WriteLine($"kafka: commit failed ({e.Error.Reason}); will retry");
            }
        }

        bool IdleLocally()
        {
            lock (gate) return progress.Values.All(p => p.InFlight == 0);
        }

        /// <summary>The job is done when its publisher said so and the group has committed every partition to its end.</summary>
        async Task<bool> JobDoneAsync(IConsumer<string, string> consumer, int partitionCount, CancellationToken ct)
        {
            var spec = await Kafka.SpecReader.ReadLatestAsync(options.JobId, kafka, output, ct);
            if (spec?.Kind != Kafka.KafkaJobSpec.CompleteKind) return false;
            var partitions = Enumerable.Range(0, partitionCount).Select(p => new TopicPartition(topic, p)).ToList();
            var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(10));
            foreach (var c in committed)
            {
                var high = consumer.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High.Value;
                var at = c.Offset.Value < 0 ? 0 : c.Offset.Value;
                if (at < high) return false;
            }
            return true;
        }
    }
}
