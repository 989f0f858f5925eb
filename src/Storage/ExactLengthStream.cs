namespace DataPlane.Storage;

/// <summary>
/// Passes exactly the announced number of bytes through and fails, as the caller's error, on content that is shorter
/// or longer. The check for "longer" happens before the last bytes are handed on, so a streamed upload is cut short
/// (and never completed) rather than storing a truncated object.
/// </summary>
internal sealed class ExactLengthStream(Stream inner, long announced, string key) : ForwardReadStream
{
    private readonly byte[] _probe = new byte[1];
    private readonly long _length = announced;
    private long _remaining = announced;
    private bool _ended;

    public override long Length => _length;
    protected override long ReadSoFar => _length - _remaining;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_remaining == 0)
        {
            CheckEnd(_ended ? 0 : inner.Read(_probe));
            return 0;
        }
        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        Account(n);
        if (_remaining == 0) CheckEnd(inner.Read(_probe));
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        if (_remaining == 0)
        {
            CheckEnd(_ended ? 0 : await inner.ReadAsync(_probe, cancellationToken));
            return 0;
        }
        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        Account(n);
        if (_remaining == 0) CheckEnd(await inner.ReadAsync(_probe, cancellationToken));
        return n;
    }

    private void Account(int n)
    {
        if (n == 0)
            throw new ArgumentException($"The content of '{key}' ended after {_length - _remaining} bytes; PutOptions.ContentLength announced {_length}.");
        _remaining -= n;
    }

    /// <param name="probed">What a read past the announced length gave.</param>
    private void CheckEnd(int probed)
    {
        _ended = true;
        if (probed > 0)
            throw new ArgumentException($"The content of '{key}' is longer than the {_length} bytes PutOptions.ContentLength announced.");
    }

}
