using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>A shard of groups in memory as its operator measures it against the budget (<see cref="GroupShards"/>).</summary>
internal interface IGroupShard
{
    AggregateSet Aggregates { get; }

    /// <summary>Group ids handed out: the group count of <see cref="Aggregates"/>.</summary>
    int Groups { get; }

    /// <summary>Whether <paramref name="group"/> holds a group (an id may be free for reuse).</summary>
    bool Holds(int group);

    /// <summary>An estimate of the memory held, the aggregates at <paramref name="groupBytes"/> a group.</summary>
    long Bytes(long groupBytes);
}
