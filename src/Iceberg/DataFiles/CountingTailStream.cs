namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A pass-through write stream that counts bytes and keeps the last <c>capacity</c> of them, so the Parquet footer
/// (column chunk sizes) can be read back after the writer closes without reading the object from storage again.
/// </summary>
internal sealed class CountingTailStream(Stream inner, int capacity) : Stream
{
    private readonly byte[] _ring = new byte[capacity];
    private long _position;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Remember(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Remember(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Remember(ReadOnlySpan<byte> data)
    {
        _position += data.Length;
        if (data.Length > _ring.Length)
            data = data[^_ring.Length..];
        int at = (int)((_position - data.Length) % _ring.Length);
        int first = Math.Min(data.Length, _ring.Length - at);
        data[..first].CopyTo(_ring.AsSpan(at));
        data[first..].CopyTo(_ring);
    }

    /// <summary>The last bytes written (at most the capacity), in order.</summary>
    public byte[] Tail()
    {
        int length = (int)Math.Min(_position, _ring.Length);
        var tail = new byte[length];
        int start = (int)((_position - length) % _ring.Length);
        int first = Math.Min(length, _ring.Length - start);
        _ring.AsSpan(start, first).CopyTo(tail);
        _ring.AsSpan(0, length - first).CopyTo(tail.AsSpan(first));
        return tail;
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
