using System.Buffers.Binary;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A pass-through write stream that, once told the Parquet writer is closing (<see cref="Hold"/>), holds back the last
/// bytes written (at least a window's worth), so the footer at the very end can be replaced before it reaches storage
/// (<see cref="Complete"/>). Bytes before the window go through as they come, so memory stays bounded by the window.
/// </summary>
internal sealed class FooterRewriteStream(Stream inner) : Stream
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Queue<byte[]> _held = new();
    private long _heldBytes;
    private long _window = -1;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    /// <summary>Bytes written to this stream, held ones included (what the Parquet writer takes as its position).</summary>
    public override long Length => inner.Position + _heldBytes;
    public override long Position { get => Length; set => throw new NotSupportedException(); }

    /// <summary>From now on keep at least the last <paramref name="window"/> bytes back: it must exceed the footer's size.</summary>
    public void Hold(long window) => _window = window;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_window < 0)
        {
            inner.Write(buffer);
            return;
        }
        _held.Enqueue(buffer.ToArray());
        _heldBytes += buffer.Length;
        // Release whole chunks from the front while what stays still covers the window.
        while (_held.Count > 1 && _heldBytes - _held.Peek().Length >= _window)
        {
            var chunk = _held.Dequeue();
            inner.Write(chunk);
            _heldBytes -= chunk.Length;
        }
    }

    /// <summary>Writes what is held with its footer (the Thrift <c>FileMetaData</c> before the length and <c>PAR1</c>) replaced.</summary>
    public void Complete(Func<ReadOnlySpan<byte>, byte[]> rewriteFooter)
    {
        var held = new byte[_heldBytes];
        int at = 0;
        foreach (var chunk in _held)
        {
            chunk.CopyTo(held, at);
            at += chunk.Length;
        }
        _held.Clear();
        _heldBytes = 0;
        if (held.Length < 8 || !held.AsSpan(held.Length - 4).SequenceEqual(Magic))
            throw new InvalidDataException("The Parquet writer did not end the file with a footer.");
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(held.AsSpan(held.Length - 8));
        int footerStart = held.Length - 8 - footerLength;
        if (footerLength < 0 || footerStart < 0)
            throw new InvalidOperationException($"The Parquet footer ({footerLength} bytes) is larger than the {_window} bytes held back for it.");
        inner.Write(held.AsSpan(0, footerStart));
        var footer = rewriteFooter(held.AsSpan(footerStart, footerLength));
        inner.Write(footer);
        Span<byte> end = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(end, footer.Length);
        Magic.CopyTo(end[4..]);
        inner.Write(end);
        _window = -1;
    }

    public override void Flush()
    {
        if (_window < 0) inner.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
