using System.Collections.Concurrent;
using DataPlane.Pipelines.Ingest;
using DataPlane.Pipelines.Log;

namespace DataPlane.Pipelines.Streams;

/// <summary>A live stream: its definition, its ingest log, pooled parsers, and the offsets its readers have committed.</summary>
internal sealed class IngestStream : IAsyncDisposable
{
    private readonly ConcurrentBag<RecordBatchParser> _parsers = [];
    private readonly ConcurrentDictionary<string, long> _readerOffsets = new(StringComparer.Ordinal);
    private readonly object _readersGate = new();
    private bool _deleted;

    public IngestStream(StreamDefinition definition, string directory, IngestLog log)
    {
        Definition = definition;
        Directory = directory;
        Log = log;
    }

    public StreamDefinition Definition { get; }
    public string Directory { get; }
    public IngestLog Log { get; }
    public string Name => Definition.Name;
    /// <summary>What HTTP ingestion accepted and refused since the server started.</summary>
    public StreamActivity Activity { get; } = new();

    public RecordBatchParser RentParser() => _parsers.TryTake(out var parser) ? parser : new RecordBatchParser(Definition);

    public void ReturnParser(RecordBatchParser parser) => _parsers.Add(parser);

    /// <summary>The most log batches <see cref="RecentBatches"/> reads.</summary>
    public const int MaxRecentBatches = 100;

    /// <summary>
    /// The log batches holding the last <paramref name="limit"/> records still in the log, oldest first (at most
    /// <see cref="MaxRecentBatches"/>), and how many records of the first to skip; read-only, holding no offset. The
    /// caller releases each batch.
    /// </summary>
    public List<LogBatch> RecentBatches(int limit, out int skip)
    {
        var batches = new List<LogBatch>();
        long offset = Log.EndOffset - 1;
        int held = 0;
        try
        {
            while (held < limit && offset >= 0 && batches.Count < MaxRecentBatches && Log.TryRead(offset, out var batch))
            {
                batches.Add(batch);
                held += batch.RecordCount;
                offset = batch.FirstOffset - 1;
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            // The log released older segments meanwhile: what was read is the most recent there is.
        }
        catch (ObjectDisposedException)
        {
            // Deleted meanwhile.
        }
        batches.Reverse();
        skip = Math.Max(0, held - limit);
        return batches;
    }

    /// <summary>After <paramref name="idleFor"/> without an append: the log closes its file and drops its tail, and the
    /// pooled parsers (buffers sized to the largest request seen) go.</summary>
    public void TrimIdle(TimeSpan idleFor)
    {
        if (Log.TrimIdle(idleFor) && !_parsers.IsEmpty)
            _parsers.Clear();
    }

    /// <summary>
    /// Registers a reader (a pipeline) so segments it still needs are kept. A <see cref="KeyNotFoundException"/> (404) once
    /// the stream is deleted: its folder is about to go.
    /// </summary>
    public void AddReader(string reader, long committedOffset)
    {
        lock (_readersGate)
        {
            if (_deleted)
                throw new KeyNotFoundException($"Stream '{Name}' was deleted.");
            _readerOffsets[reader] = committedOffset;
        }
    }

    /// <summary>
    /// Marks the stream deleted unless a pipeline reads it, in one step with <see cref="AddReader"/>: a pipeline created
    /// meanwhile either registered first (its names come back and the stream stays) or is refused.
    /// </summary>
    public IReadOnlyCollection<string> MarkDeleted()
    {
        lock (_readersGate)
        {
            if (!_readerOffsets.IsEmpty)
                return Readers;
            _deleted = true;
            return [];
        }
    }

    public void RemoveReader(string reader)
    {
        _readerOffsets.TryRemove(reader, out _);
        ReleaseCommitted();
    }

    public IReadOnlyCollection<string> Readers => _readerOffsets.Keys.ToList();

    /// <summary>Records that <paramref name="reader"/> has committed everything below <paramref name="offset"/>, and frees segments every reader is past.</summary>
    public void Commit(string reader, long offset)
    {
        _readerOffsets[reader] = offset;
        ReleaseCommitted();
    }

    private void ReleaseCommitted()
    {
        // With no reader, records wait for a pipeline: the log's size bound stops growth.
        if (_readerOffsets.IsEmpty)
            return;
        Log.ReleaseBefore(_readerOffsets.Values.Min());
    }

    public ValueTask DisposeAsync() => Log.DisposeAsync();
}
