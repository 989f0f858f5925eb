namespace DataPlane.Storage.Log;

/// <summary>
/// How one log frames a record on disk: a fixed header, the payload, a fixed trailer. Each log keeps its own framing
/// (the bytes of files already written must stay readable); the segmented log only needs to find a record's length and
/// keys in its header and to check it whole, which is how it tells a torn tail from a record.
/// </summary>
public interface IRecordFraming
{
    int HeaderBytes { get; }

    int TrailerBytes { get; }

    /// <summary>
    /// Reads a header: the payload's length and the record's keys [first, first + count). False when the bytes are not
    /// a header (zeros, a torn write, an impossible length).
    /// </summary>
    bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out long firstKey, out int keyCount);

    /// <summary>True when the record's checksum matches: it was written whole.</summary>
    bool IsWhole(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> trailer);
}
