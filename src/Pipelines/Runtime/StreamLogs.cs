using DataPlane.Pipelines.Log;
using DataPlane.Pipelines.Streams;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// The local logs a pipeline reads when its SQL names several streams (a join of two): each read at its own position,
/// a batch of each stream with records in turn, so no stream waits behind another's backlog. The run counts the records
/// it read as its offsets, as it does for a Kafka-backed stream's partitions; each sink's position in each log is its
/// <see cref="StreamSinkOffsets"/>.
/// </summary>
internal sealed class StreamLogs(IReadOnlyList<IngestStream> streams)
{
    private readonly long[] _position = new long[streams.Count];
    private int _next;

    public IReadOnlyList<IngestStream> Streams => streams;

    /// <summary>The offset of the next record the run reads from stream <paramref name="stream"/>'s log.</summary>
    public long Position(int stream) => Volatile.Read(ref _position[stream]);

    public void Start(long[] positions)
    {
        for (int s = 0; s < positions.Length; s++)
            Volatile.Write(ref _position[s], positions[s]);
    }

    /// <summary>The next stream's batch in turn among those with records past their position.</summary>
    public bool TryRead(out int stream, out LogBatch batch)
    {
        for (int k = 0; k < streams.Count; k++)
        {
            stream = (_next + k) % streams.Count;
            if (streams[stream].Log.TryRead(_position[stream], out batch))
            {
                _next = (stream + 1) % streams.Count;
                if (batch.FirstOffset != _position[stream])
                {
                    batch.Release();
                    throw new InvalidDataException($"Offset {_position[stream]} of stream '{streams[stream].Name}' is inside a batch starting at {batch.FirstOffset}; pipelines commit at batch boundaries.");
                }
                return true;
            }
        }
        stream = -1;
        batch = default;
        return false;
    }

    public void Advance(int stream, long endOffset) => Volatile.Write(ref _position[stream], endOffset);

    /// <summary>Completes when any log has records past the run's position in it.</summary>
    public Task WaitForAnyAsync(CancellationToken cancellationToken) =>
        Task.WhenAny(streams.Select((s, i) => s.Log.WaitForAsync(_position[i], cancellationToken)));

    /// <summary>Each log's end now: what a flush asks the run to reach.</summary>
    public long[] Ends() => [.. streams.Select(s => s.Log.EndOffset)];

    /// <summary>Whether the run has read every log up to <paramref name="ends"/>.</summary>
    public bool Reached(long[] ends)
    {
        for (int s = 0; s < ends.Length; s++)
            if (Position(s) < ends[s])
                return false;
        return true;
    }
}
