namespace DataPlane.Storage;

/// <summary>An inclusive byte range as HTTP Range has it: <c>bytes=Offset-(Offset+Length-1)</c>; a null length reads to the end.</summary>
public readonly record struct ByteRange(long Offset, long? Length = null)
{
    public override string ToString() => Length is { } n ? $"bytes={Offset}-{Offset + n - 1}" : $"bytes={Offset}-";
}
