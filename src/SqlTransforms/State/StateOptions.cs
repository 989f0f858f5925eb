namespace DataPlane.SqlTransforms.State;

/// <summary>
/// How an execution holds its keyed state (the groups of its windowed aggregations): split into <see cref="Shards"/> by
/// a hash of the key, kept in memory up to <see cref="MemoryBytes"/> in all, and past that spilled to sorted runs on
/// local disk under <see cref="SpillDirectory"/>, merged when a window closes or a snapshot is written.
/// </summary>
public sealed record StateOptions
{
    /// <summary>The state as it always was: one shard, all in memory.</summary>
    public static readonly StateOptions InMemory = new();

    /// <summary>Shards of keyed state (each key belongs to one, by a hash of its bytes that does not change between
    /// processes); a snapshot holds each shard's part apart, and one restored with another count redistributes the keys.</summary>
    public int Shards { get; init; } = 1;

    /// <summary>Bytes of keyed state held in memory by the whole execution before it spills; <see cref="long.MaxValue"/>: never.</summary>
    public long MemoryBytes { get; init; } = long.MaxValue;

    /// <summary>Where spilled runs go (a folder of the execution's own below it, removed as its runs are merged).</summary>
    public string SpillDirectory { get; init; } = Path.GetTempPath();
}
