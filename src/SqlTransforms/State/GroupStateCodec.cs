using DataPlane.SqlTransforms.Execution.Aggregates;

namespace DataPlane.SqlTransforms.State;

/// <summary>
/// One group's aggregate state as bytes and back, for spilled runs: the group is merged into group 0 of a scratch
/// set of the same calls (merging into an empty group copies it), written as a snapshot of one group, and cleared.
/// The buffers are reused, so a group costs no allocation (but for accumulators that allocate to read themselves).
/// </summary>
internal sealed class GroupStateCodec
{
    private AggregateSet _scratch;
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _writer;
    private readonly BinaryReader _reader;
    /// <summary>A DISTINCT aggregate keeps cleared values in its table until it compacts, and a snapshot of one group
    /// writes that table whole: with one, each group is encoded from a new scratch set.</summary>
    private readonly bool _freshScratch;

    public GroupStateCodec(AggregateSet empty)
    {
        _scratch = empty;
        _freshScratch = empty.Accumulators.Any(a => a is DistinctAccumulator);
        _writer = new BinaryWriter(_stream);
        _reader = new BinaryReader(_stream);
    }

    /// <summary>The state of <paramref name="group"/> of <paramref name="set"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> Encode(AggregateSet set, int group)
    {
        if (_freshScratch) _scratch = _scratch.Empty();
        _scratch.Merge(set, group, 0);
        _stream.SetLength(0);
        _scratch.Write(_writer, 1);
        _writer.Flush();
        _scratch.Clear(0);
        return _stream.GetBuffer().AsSpan(0, (int)_stream.Length);
    }

    /// <summary>Folds a state from <see cref="Encode"/> into <paramref name="group"/> of <paramref name="set"/>.</summary>
    public void MergeInto(ReadOnlySpan<byte> state, AggregateSet set, int group)
    {
        _stream.SetLength(0);
        _stream.Write(state);
        _stream.Position = 0;
        _scratch.Read(_reader, 1);
        set.Merge(_scratch, 0, group);
        _scratch.Clear(0);
    }
}
