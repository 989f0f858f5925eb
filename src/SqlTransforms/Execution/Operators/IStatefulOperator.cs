namespace DataPlane.SqlTransforms.Execution.Operators;

/// <summary>
/// An operator whose state outlives a batch (windows and their keys): written to and read from a snapshot, so a
/// restored execution continues exactly where the snapshot was taken.
/// </summary>
internal interface IStatefulOperator
{
    /// <summary>What the operator is, for status pages: <c>window tumble(60s)</c>.</summary>
    string Name { get; }

    /// <summary>Records it dropped itself as late: they reached a window it had already emitted (a status page reads it from another thread).</summary>
    long LateRecords => 0;

    void WriteState(BinaryWriter writer);

    void ReadState(BinaryReader reader);
}
