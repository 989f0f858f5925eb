using Apache.Arrow;
using DataPlane.SqlTransforms.Execution;
using DataPlane.SqlTransforms.Types;

namespace DataPlane.SqlTransforms.EventTime;

/// <summary>
/// One source's watermark. With an event time column: each partition's watermark is the largest event time it
/// has delivered minus the delay; the source's is the smallest over its partitions, leaving out partitions idle
/// for longer than the idle timeout (by the processing-time clock), and never goes back. A record whose event
/// time is below the watermark in effect when its batch arrives is late: dropped and counted (reason
/// <c>late</c>). A partition holds the watermark back from its first batch on (partitions not seen yet do not).
/// Without an event time column, the watermark is the processing time. Writes and reads itself for snapshots.
/// <para>
/// The source is idle (<see cref="IsIdle"/>) when every partition it has delivered from has been idle for the idle
/// timeout, or it has delivered nothing for that long since the execution began; an execution that joins it with other
/// sources then has its watermark follow theirs (<see cref="Follow"/>). A restored tracker counts on from the saved
/// times, as if it had run on; after a restart (<see cref="RestartIdleTimeouts"/>) every partition's timeout starts
/// again, so a run that replays the log does not take partitions whose records it has not reached yet for idle.
/// </para>
/// </summary>
internal sealed class WatermarkTracker
{
    public static readonly RowErrorReason Late = new("late", "a record whose event time is behind its stream's watermark");
    public static readonly RowErrorReason NoEventTime = new("null_event_time", "a record whose event time column is NULL");

    private readonly int _column;
    private readonly long _delay;
    private readonly long? _idleTimeout;
    private readonly SortedDictionary<int, Partition> _partitions = new();
    private int[] _kept = [];
    private readonly List<(int Row, RowErrorReason Reason)> _dropped = [];
    /// <summary>Marks a time not read yet: set from the clock's next reading.</summary>
    private const long Unread = long.MinValue;
    private long _since = Unread;

    private sealed class Partition
    {
        public long Max = long.MinValue;
        public long LastSeen;
    }

    private WatermarkTracker(int column, long delay, long? idleTimeout)
    {
        _column = column;
        _delay = delay;
        _idleTimeout = idleTimeout;
    }

    /// <summary>Event time from column <paramref name="column"/> of the source's batches.</summary>
    public static WatermarkTracker ForColumn(int column, WatermarkDefinition definition) => new(column, definition.DelayMicros, definition.IdleTimeoutMicros);

    public static WatermarkTracker ProcessingTime() => new(-1, 0, null);

    public bool IsProcessingTime => _column < 0;

    /// <summary>The watermark in microseconds since the epoch; long.MinValue before the first.</summary>
    public long Current { get; private set; } = long.MinValue;

    /// <summary>Records dropped as late since the tracker was made (added once per batch; another thread may read it).</summary>
    public long LateRecords => Volatile.Read(ref _late);

    private long _late;

    /// <summary>The rows the last <see cref="Admit"/> dropped, with why (the list is reused by the next batch).</summary>
    public IReadOnlyList<(int Row, RowErrorReason Reason)> Dropped => _dropped;

    /// <summary>The batch without its late records and records without event time (each counted in <paramref name="log"/>).</summary>
    public RecordBatch Admit(RecordBatch batch, int partition, long now, RowErrorLog log)
    {
        _dropped.Clear();
        if (_column < 0) return batch;
        Start(now);
        if (!_partitions.TryGetValue(partition, out var state)) _partitions.Add(partition, state = new Partition());
        state.LastSeen = now;
        var column = batch.Column(_column);
        var times = Vectors.Values<long>(column);
        bool nulls = column.NullCount > 0;
        int n = batch.Length, kept = 0;
        if (_kept.Length < n) _kept = new int[n];
        long max = state.Max;
        for (int i = 0; i < n; i++)
        {
            if (nulls && column.IsNull(i))
            {
                log.Count(NoEventTime);
                log.Sample(NoEventTime, $"record {i} of a batch of partition {partition} has no event time");
                _dropped.Add((i, NoEventTime));
                continue;
            }
            long t = times[i];
            if (t > max) max = t; // late records count too: a partition whose first records are late still holds the watermark back
            if (t < Current)
            {
                log.Count(Late);
                log.Sample(Late, $"event time {ValueText.Timestamp(t, false)} is behind the watermark {ValueText.Timestamp(Current, false)} (partition {partition})");
                _dropped.Add((i, Late));
                continue;
            }
            _kept[kept++] = i;
        }
        state.Max = max;
        if (kept == n) return batch;
        int late = 0;
        foreach (var (_, reason) in _dropped) if (reason == Late) late++;
        if (late > 0) Volatile.Write(ref _late, _late + late);
        var columns = new IArrowArray[batch.ColumnCount];
        var selection = _kept.AsSpan(0, kept);
        for (int c = 0; c < columns.Length; c++) columns[c] = Gather.Take(batch.Column(c), selection);
        return new RecordBatch(batch.Schema, columns, kept);
    }

    /// <summary>Recomputes the watermark at processing time <paramref name="now"/>; true when it moved forward.</summary>
    public bool Advance(long now)
    {
        Start(now);
        long candidate;
        if (_column < 0) candidate = now;
        else
        {
            candidate = long.MaxValue;
            foreach (var p in _partitions.Values)
            {
                if (p.Max == long.MinValue) continue;
                if (_idleTimeout is { } idle && now - p.LastSeen >= idle) continue;
                candidate = Math.Min(candidate, p.Max);
            }
            if (candidate == long.MaxValue) return false; // every partition idle (or none seen): hold
            candidate = candidate - _delay;
        }
        if (candidate <= Current) return false;
        Current = candidate;
        return true;
    }

    /// <summary>The clock's first reading in this execution starts the idle timeouts of the source and of partitions restored.</summary>
    private void Start(long now)
    {
        if (_since != Unread) return;
        _since = now;
        foreach (var p in _partitions.Values)
            if (p.LastSeen == Unread) p.LastSeen = now;
    }

    /// <summary>The time since the state was saved was not spent running: every partition's idle timeout starts again at the clock's next reading.</summary>
    public void RestartIdleTimeouts()
    {
        foreach (var p in _partitions.Values)
            p.LastSeen = Unread;
        _since = Unread;
    }

    /// <summary>Whether the source has been idle for its idle timeout at <paramref name="now"/> (never without one, or without event time).</summary>
    public bool IsIdle(long now)
    {
        if (_column < 0 || _idleTimeout is not { } idle) return false;
        Start(now);
        if (_partitions.Count == 0) return now - _since >= idle;
        foreach (var p in _partitions.Values)
            if (now - p.LastSeen < idle) return false;
        return true;
    }

    /// <summary>While idle, the watermark follows <paramref name="watermark"/>, the other sources' (never back); true when it moved.
    /// Records the source delivers later behind it are late.</summary>
    public bool Follow(long watermark)
    {
        if (watermark <= Current) return false;
        Current = watermark;
        return true;
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Current);
        writer.Write(_partitions.Count);
        foreach (var (id, p) in _partitions)
        {
            writer.Write(id);
            writer.Write(p.Max);
            writer.Write(p.LastSeen);
        }
    }

    public void Read(BinaryReader reader)
    {
        Current = reader.ReadInt64();
        _partitions.Clear();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
            _partitions.Add(reader.ReadInt32(), new Partition { Max = reader.ReadInt64(), LastSeen = reader.ReadInt64() });
        _since = Unread;
    }
}
