namespace DataPlane.Storage;

/// <summary>
/// A stream read once, from start to end (an object's body, a window of one, a copy being hashed): readable, not
/// seekable, not writable. A subclass gives <see cref="Read(Span{byte})"/>, <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>,
/// its <see cref="Stream.Length"/> and how far it has been read; the array overloads and the refusals live here once.
/// </summary>
public abstract class ForwardReadStream : Stream
{
    public sealed override bool CanRead => true;
    public sealed override bool CanSeek => false;
    public sealed override bool CanWrite => false;

    /// <summary>The bytes read so far, which is the stream's <see cref="Position"/>.</summary>
    protected abstract long ReadSoFar { get; }

    public sealed override long Position { get => ReadSoFar; set => throw new NotSupportedException(); }

    public sealed override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public sealed override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public sealed override void Flush() { }
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public sealed override void SetLength(long value) => throw new NotSupportedException();
    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
