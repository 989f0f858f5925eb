using System.Threading.Channels;
using DataPlane.Storage;

namespace DataPlane.Slurper.Journal;

/// <summary>
/// Group commit for copies that must know their outcome is journaled before they go on (the Kafka worker commits an
/// offset only past journaled objects): outcomes of concurrent copies are written in one transaction, and each
/// caller's task completes once the transaction holding its outcome has committed.
/// </summary>
internal sealed class JournalBatcher : IAsyncDisposable
{
    const int MaxBatch = 1024;

    readonly JobJournal journal;
    readonly RetryPolicy retry;
    readonly string? worker;
    readonly Channel<(CopyOutcome Outcome, TaskCompletionSource Recorded)> pending =
        Channel.CreateUnbounded<(CopyOutcome, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    readonly Task writer;

    public JournalBatcher(JobJournal journal, RetryPolicy retry, string? worker)
    {
        this.journal = journal;
        this.retry = retry;
        this.worker = worker;
        writer = Task.Run(WriteAsync);
    }

    public Task RecordAsync(CopyOutcome outcome)
    {
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!pending.Writer.TryWrite((outcome, recorded)))
            recorded.SetException(new ObjectDisposedException(nameof(JournalBatcher)));
        return recorded.Task;
    }

    async Task WriteAsync()
    {
        var batch = new List<(CopyOutcome Outcome, TaskCompletionSource Recorded)>(MaxBatch);
        var outcomes = new List<CopyOutcome>(MaxBatch);
        while (await pending.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && pending.Reader.TryRead(out var entry)) batch.Add(entry);
            outcomes.AddRange(batch.Select(b => b.Outcome));
            try
            {
                journal.Record(outcomes, retry, worker);
                foreach (var b in batch) b.Recorded.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var b in batch) b.Recorded.TrySetException(e);
            }
            batch.Clear();
            outcomes.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        pending.Writer.TryComplete();
        await writer;
    }
}
