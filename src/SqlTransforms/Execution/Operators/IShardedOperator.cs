namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// A stateful operator whose keyed state is split into shards by a hash of the key (<see cref="State.StateOptions.Shards"/>):
/// a checkpoint writes the state without the keyed groups into the main stream, then each shard's groups into a stream
/// of its own, so what it holds at once is a buffer, never the state; a restore with another shard count puts each key
/// into its shard here.
/// </summary>
internal interface IShardedOperator : IStatefulOperator
{
    /// <summary>The state but the keyed groups, which <see cref="WriteShard"/> writes; <see cref="IStatefulOperator.ReadState"/> reads it back.</summary>
    void WriteStateApart(BinaryWriter writer);

    /// <summary>The keyed groups of shard <paramref name="shard"/>, read from disk a batch at a time when they spilled.</summary>
    void WriteShard(BinaryWriter writer, int shard);

    /// <summary>Shard <paramref name="shard"/> of <paramref name="shards"/> of a snapshot: each key into its shard here.</summary>
    void ReadShard(BinaryReader reader, int shard, int shards);
}
