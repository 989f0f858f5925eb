using DataPlane.Pipelines.Sinks;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// One sink's position in each stream's log during a run of a pipeline that reads several streams: where its commits
/// end (for a stream no commit names, where the stream's log starts), and how far it has read since. A sink needs a
/// batch that starts at or past its position in that stream; one ahead of the run skips the batches before it.
/// </summary>
internal sealed class StreamSinkOffsets
{
    private readonly long[] _committed;
    private readonly long[] _read;

    /// <param name="committed">Per stream of the pipeline, in its order, the offset the sink's commits end at.</param>
    public StreamSinkOffsets(long[] committed)
    {
        _committed = committed;
        _read = (long[])committed.Clone();
    }

    public long Committed(int stream) => _committed[stream];

    public bool Needs(int stream, long firstOffset) => firstOffset >= _read[stream];

    public void Advance(int stream, long endOffset) => _read[stream] = endOffset;

    /// <summary>Nothing read since the last commit.</summary>
    public bool Clean => _read.AsSpan().SequenceEqual(_committed);

    /// <summary>Whether the run has read up to the sink's commits in every stream (a statement with state may then move time on).</summary>
    public bool CaughtUp(StreamLogs logs)
    {
        for (int s = 0; s < _committed.Length; s++)
            if (logs.Position(s) < _committed[s])
                return false;
        return true;
    }

    /// <summary>The offsets the next commit covers: every stream, from the last commit to what the sink has read.</summary>
    public StreamOffsets ToCommit(StreamLogs logs)
    {
        var streams = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        for (int s = 0; s < _committed.Length; s++)
            streams[logs.Streams[s].Name] = (_committed[s], Math.Max(_committed[s], _read[s]));
        return new StreamOffsets(streams);
    }

    /// <summary>After a commit of <see cref="ToCommit"/>: what the sink read is its commits now.</summary>
    public void MarkCommitted() => _read.CopyTo(_committed, 0);

    /// <summary>Per stream, the least of the sinks' committed offsets: what the pipeline still needs of each log.</summary>
    public static long[] Least(IEnumerable<StreamSinkOffsets> sinks, int streams)
    {
        var least = new long[streams];
        System.Array.Fill(least, long.MaxValue);
        foreach (var sink in sinks)
            for (int s = 0; s < streams; s++)
                least[s] = Math.Min(least[s], sink._committed[s]);
        return least;
    }
}
