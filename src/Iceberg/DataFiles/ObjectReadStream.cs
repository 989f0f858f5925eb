using DataPlane.Storage;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>
/// A seekable read-only view of one object, served by ranged GETs through a read-ahead window, so that a Parquet
/// reader can jump to the footer and to the column chunks it needs without downloading the object.
/// </summary>
internal sealed class ObjectReadStream : Stream
{
    private const int WindowBytes = 1024 * 1024;

    private readonly IObjectStore _store;
    private readonly string _key;
    private readonly byte[] _window = new byte[WindowBytes];
    private long _windowStart;
    private int _windowLength;
    private long _position;

    private ObjectReadStream(IObjectStore store, string key, long length)
    {
        _store = store;
        _key = key;
        Length = length;
    }

    public static async Task<ObjectReadStream> OpenAsync(IObjectStore store, string key, CancellationToken cancellationToken = default)
    {
        var info = await store.HeadAsync(key, cancellationToken) ?? throw new ObjectNotFoundException(key, store.Location);
        return new ObjectReadStream(store, key, info.Size);
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length { get; }
    public override long Position { get => _position; set => _position = value; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Min(buffer.Length, Length - _position);
        if (count <= 0) return 0;
        if (_position >= _windowStart && _position + count <= _windowStart + _windowLength)
        {
            _window.AsSpan((int)(_position - _windowStart), count).CopyTo(buffer);
            _position += count;
            return count;
        }
        if (count >= WindowBytes)
        {
            // Column chunks are read whole: fetch them straight into the caller's buffer.
            Fetch(_position, buffer[..count]);
            _position += count;
            return count;
        }
        _windowStart = _position;
        _windowLength = (int)Math.Min(WindowBytes, Length - _position);
        Fetch(_windowStart, _window.AsSpan(0, _windowLength));
        _window.AsSpan(0, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    private void Fetch(long offset, Span<byte> destination)
    {
        // Parquet readers call Read synchronously (from native code); the store's API is async.
        using var stream = _store.GetAsync(_key, new ByteRange(offset, destination.Length)).GetAwaiter().GetResult();
        int total = 0;
        while (total < destination.Length)
        {
            int n = stream.Read(destination[total..]);
            if (n == 0)
                throw new EndOfStreamException($"Object {_key} ended at {offset + total} while reading {destination.Length} bytes from {offset}.");
            total += n;
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
