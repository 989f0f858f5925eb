using System.Collections.Concurrent;

namespace DataPlane.SqlTransforms.Execution;

/// <summary>
/// What a running query dropped: per reason, how many records and a few recent examples. Records that fail to
/// evaluate (a CAST that does not convert, a division by zero, an overflow) are dropped and counted here instead
/// of stopping the query; the pipeline runtime reads <see cref="Snapshot"/> for its status and metrics.
/// Safe to read from another thread while the query runs.
/// </summary>
public sealed class RowErrorLog
{
    /// <summary>Recent examples kept per reason.</summary>
    public const int SamplesPerReason = 5;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _total;

    /// <summary>Records dropped so far, for every reason.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>The reason of the last record counted (what a one-record probe failed for).</summary>
    internal RowErrorReason? LastReason { get; private set; }

    internal void Count(RowErrorReason reason)
    {
        Interlocked.Increment(ref Get(reason).Count);
        Interlocked.Increment(ref _total);
        LastReason = reason;
    }

    internal void Sample(RowErrorReason reason, string detail)
    {
        var entry = Get(reason);
        lock (entry.Samples)
        {
            if (entry.Samples.Count == SamplesPerReason) entry.Samples.Dequeue();
            entry.Samples.Enqueue(detail);
        }
    }

    /// <summary>Per reason: the count so far and the most recent examples, oldest first.</summary>
    public IReadOnlyList<RowErrorCount> Snapshot() =>
        _entries.Values.Select(e =>
        {
            string[] samples;
            lock (e.Samples) samples = e.Samples.ToArray();
            return new RowErrorCount(e.Reason, Interlocked.Read(ref e.Count), samples);
        }).OrderBy(c => c.Reason.Code, StringComparer.Ordinal).ToList();

    private Entry Get(RowErrorReason reason) => _entries.GetOrAdd(reason.Code, _ => new Entry(reason));

    private sealed class Entry(RowErrorReason reason)
    {
        public readonly RowErrorReason Reason = reason;
        public long Count;
        public readonly Queue<string> Samples = new();
    }
}

/// <summary>Records dropped for one reason, with recent examples such as <c>CAST('abc' AS INTEGER) failed (in projection)</c>.</summary>
public sealed record RowErrorCount(RowErrorReason Reason, long Count, IReadOnlyList<string> RecentSamples);
