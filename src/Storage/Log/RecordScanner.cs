namespace DataPlane.Storage.Log;

/// <summary>
/// Reads whole records one after the other from the start of a segment file, through a buffered stream (records are
/// often far smaller than a read worth a system call). Stops at the first bytes that are not a whole record whose keys
/// follow the previous one's: the end of what was written, or a torn tail.
/// </summary>
internal sealed class RecordScanner(FileStream stream, IRecordFraming framing, long limit, long firstKey, bool contiguousKeys)
{
    private readonly byte[] _header = new byte[framing.HeaderBytes];
    private readonly byte[] _trailer = new byte[framing.TrailerBytes];
    private byte[] _payload = [];
    private int _payloadLength;

    /// <summary>Bytes of whole records read so far.</summary>
    public long Position { get; private set; }

    /// <summary>The key the next record must start at (contiguous keys) or after.</summary>
    public long EndKey { get; private set; } = firstKey;

    public long FirstKey { get; private set; }

    public int KeyCount { get; private set; }

    public ReadOnlySpan<byte> Header => _header;

    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, _payloadLength);

    public long FrameLength => _header.Length + _payloadLength + _trailer.Length;

    public bool MoveNext()
    {
        if (Position + _header.Length > limit || !ReadFull(_header))
            return false;
        if (!framing.TryReadHeader(_header, out int length, out long first, out int count)
            || count <= 0 || (contiguousKeys ? first != EndKey : first < EndKey)
            || Position + _header.Length + length + _trailer.Length > limit)
            return false;
        if (_payload.Length < length)
            _payload = new byte[Math.Max(length, (int)Math.Min(2L * _payload.Length, Array.MaxLength))];
        _payloadLength = length;
        if (!ReadFull(_payload.AsSpan(0, length)) || !ReadFull(_trailer) || !framing.IsWhole(_header, Payload, _trailer))
            return false;
        FirstKey = first;
        KeyCount = count;
        EndKey = first + count;
        Position += FrameLength;
        return true;
    }

    private bool ReadFull(Span<byte> buffer) => stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;
}
