namespace DataPlane.SqlTransforms.State;

/// <summary>What an operator's shards of groups hold of the execution's budget, by its estimate.</summary>
internal static class GroupShards
{
    /// <summary>Groups sampled for the mean size of a group's aggregates.</summary>
    private const int Sampled = 64;

    /// <summary>The mean size of a group's aggregates, over up to 64 groups in memory (<paramref name="last"/> while there are none).</summary>
    public static long SampleGroupBytes<TShard>(TShard[] shards, GroupStateCodec codec, long last) where TShard : IGroupShard
    {
        long bytes = 0;
        int sampled = 0;
        foreach (var shard in shards)
            for (int g = 0; g < shard.Groups && sampled < Sampled; g++)
                if (shard.Holds(g))
                {
                    bytes += codec.Encode(shard.Aggregates, g).Length;
                    sampled++;
                }
        return sampled == 0 ? last : Math.Max(1, bytes / sampled);
    }

    /// <summary>Reports to <paramref name="memory"/> what the shards hold at <paramref name="groupBytes"/> a group, where
    /// the operator had reported <paramref name="held"/>; answers what they hold.</summary>
    public static long Report<TShard>(StateMemory memory, TShard[] shards, long groupBytes, long held) where TShard : IGroupShard
    {
        long now = 0;
        foreach (var shard in shards) now += shard.Bytes(groupBytes);
        memory.Change(now - held);
        return now;
    }
}
