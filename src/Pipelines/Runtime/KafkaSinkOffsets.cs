using DataPlane.Pipelines.Sinks;

namespace DataPlane.Pipelines.Runtime;

/// <summary>
/// One sink's position in each partition of a Kafka-backed stream during a run: where its commits in the table end
/// (-1: none names the partition), and how far it has read since (the end of the last batch it took). A sink needs a
/// batch that starts at or past its position; one ahead of the run skips the batches before it.
/// </summary>
internal sealed class KafkaSinkOffsets
{
    private readonly long[] _committed;
    private readonly long[] _read;

    /// <param name="last">Where the sink's commits leave each partition (its last commit's merged offsets); null: none.</param>
    public KafkaSinkOffsets(KafkaOffsets? last, string topic, int partitions)
    {
        _committed = new long[partitions];
        System.Array.Fill(_committed, -1);
        if (last is not null && last.Topic == topic)
            foreach (var (partition, (_, end)) in last.Partitions)
                if (partition < partitions)
                    _committed[partition] = end;
        _read = (long[])_committed.Clone();
    }

    public long Committed(int partition) => _committed[partition];

    public bool Needs(int partition, long firstOffset) => firstOffset >= _read[partition];

    public void Advance(int partition, long endOffset) => _read[partition] = endOffset;

    /// <summary>Nothing read since the last commit.</summary>
    public bool Clean => _read.AsSpan().SequenceEqual(_committed);

    /// <summary>Whether the run has read up to the sink's commits in every partition (a statement with state may then move time on).</summary>
    public bool CaughtUp(KafkaStreamInput input)
    {
        foreach (int p in input.Assigned)
            if (input.Position(p) < _committed[p])
                return false;
        return true;
    }

    /// <summary>The offsets the next commit covers, every partition this worker has (the group's share; the commit requires
    /// each to still end in the table where this run began it): from the last commit (or where the run began a partition
    /// no commit names) to what the sink has read.</summary>
    public KafkaOffsets ToCommit(KafkaStreamInput input)
    {
        var partitions = new Dictionary<int, (long, long)>(input.Assigned.Count);
        var fresh = new HashSet<int>();
        foreach (int p in input.Assigned)
        {
            long start = _committed[p];
            if (start < 0)
            {
                fresh.Add(p);
                start = input.Start(p);
            }
            partitions[p] = (start, Math.Max(start, _read[p]));
        }
        return new KafkaOffsets(input.Topic, _committed.Length, partitions, fresh);
    }

    /// <summary>After a commit of <see cref="ToCommit"/>: its ends are the sink's commits now.</summary>
    public void MarkCommitted(KafkaOffsets committed)
    {
        foreach (var (partition, (_, end)) in committed.Partitions)
            _committed[partition] = _read[partition] = end;
    }

    /// <summary>Per partition, the least of the sinks' committed offsets (-1 where one has none).</summary>
    public static long[] Least(IEnumerable<KafkaSinkOffsets> sinks, int partitions)
    {
        var least = new long[partitions];
        System.Array.Fill(least, long.MaxValue);
        foreach (var sink in sinks)
            for (int p = 0; p < partitions; p++)
                least[p] = Math.Min(least[p], sink._committed[p]);
        return least;
    }
}
