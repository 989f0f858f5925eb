using System.Buffers;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// A write-only stream into a pooled array whose bytes become a <see cref="LogBuffer"/> without a copy: a batch
/// serialized here goes to the log's in-memory tail as is, where copying it there cost a pass over every payload.
/// </summary>
internal sealed class LogBufferStream : Stream
{
    private byte[] _array = [];
    private int _length;
    private int _lastLength = 4096;

    /// <summary>The bytes written since the last <see cref="Clear"/> or <see cref="Detach"/>.</summary>
    public ReadOnlyMemory<byte> Written => _array.AsMemory(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Hands the bytes written over as a buffer held once; the stream starts again empty.</summary>
    public LogBuffer Detach()
    {
        var buffer = LogBuffer.Own(_array, _length);
        _lastLength = Math.Max(_length, 4096);
        _array = [];
        _length = 0;
        return buffer;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_length + buffer.Length > _array.Length)
            Grow(_length + buffer.Length);
        buffer.CopyTo(_array.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    private void Grow(int needed)
    {
        // The last batch's size first: batches of one stream are alike, so most grow once at most.
        var next = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length == 0 ? _lastLength : 2 * _array.Length));
        _array.AsSpan(0, _length).CopyTo(next);
        if (_array.Length > 0)
            ArrayPool<byte>.Shared.Return(_array);
        _array = next;
    }

    protected override void Dispose(bool disposing)
    {
        if (_array.Length > 0)
            ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _length = 0;
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
