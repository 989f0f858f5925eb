using DataPlane.Storage;

namespace DataPlane.Slurper.Copy;

/// <summary>
/// One part's bytes, read straight from the source object's stream as the part upload sends them: no part buffer.
/// <see cref="Drained"/> completes once the upload has read the whole part, so the next part can start reading the
/// shared source stream while this part's upload is still waiting for the server's answer.
/// </summary>
internal sealed class PartWindow(Stream source, long partLength) : ForwardReadStream
{
    readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly long length = partLength;
    long remaining = partLength;

    public Task Drained => drained.Task;

    public override long Length => length;
    protected override long ReadSoFar => length - remaining;

    public override int Read(Span<byte> buffer)
    {
        if (remaining == 0 || buffer.IsEmpty) return 0;
        return Advance(source.Read(buffer[..(int)Math.Min(buffer.Length, remaining)]));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (remaining == 0 || buffer.IsEmpty) return 0;
        return Advance(await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, remaining)], cancellationToken));
    }

    int Advance(int n)
    {
        if (n == 0)
        {
            var e = new IOException($"The source ended {remaining} bytes before the end of the part.");
            drained.TrySetException(e);
            throw e;
        }
        remaining -= n;
        if (remaining == 0) drained.TrySetResult();
        return n;
    }

}
