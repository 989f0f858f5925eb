namespace DataPlane.Storage;

/// <summary>
/// An object's bytes, read from the backend as they are consumed, together with what the backend said of the object
/// in the same response (size, ETag, last-modified, content type, user metadata, storage class), so that a reader
/// needing both makes one request rather than a head and a get. For a range, <see cref="Object"/> still describes the
/// whole object and <see cref="Length"/> is the length of the range.
/// </summary>
public sealed class ObjectBody : ForwardReadStream
{
    private readonly Stream _content;
    private readonly IDisposable? _owner;
    private readonly long _length;
    private long _position;

    /// <param name="owner">Released with the body (an HTTP response holding a pooled connection).</param>
    public ObjectBody(Stream content, ObjectInfo @object, long length, IDisposable? owner = null)
    {
        _content = content;
        _owner = owner;
        _length = length;
        Object = @object;
    }

    /// <summary>The whole object as the backend described it when this body was opened.</summary>
    public ObjectInfo Object { get; }

    /// <summary>The bytes this body holds: the object's size, or the range's length.</summary>
    public override long Length => _length;
    protected override long ReadSoFar => _position;

    public override int Read(Span<byte> buffer)
    {
        var n = _content.Read(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _content.ReadAsync(buffer, cancellationToken);
        _position += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _content.Dispose();
            _owner?.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _content.DisposeAsync();
        _owner?.Dispose();
        GC.SuppressFinalize(this);
    }
}
