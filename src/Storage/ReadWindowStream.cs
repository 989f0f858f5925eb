namespace DataPlane.Storage;

/// <summary>Reads at most a fixed number of bytes from an inner stream positioned at the window's start, then reports end of stream.
/// With <paramref name="leaveOpen"/>, disposing it leaves the inner stream to its owner (a caller's part stream).</summary>
internal sealed class ReadWindowStream(Stream inner, long length, bool leaveOpen = false) : ForwardReadStream
{
    private readonly long _length = length;
    private long _remaining = length;

    public override long Length => _length;
    protected override long ReadSoFar => _length - _remaining;

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0 || buffer.IsEmpty) return 0;
        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0 || buffer.IsEmpty) return 0;
        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        _remaining -= n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen) inner.Dispose();
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => leaveOpen ? ValueTask.CompletedTask : inner.DisposeAsync();
}
