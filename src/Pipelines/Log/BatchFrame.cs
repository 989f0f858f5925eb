using System.Buffers.Binary;
using DataPlane.Storage.Durability;
using DataPlane.Storage.Log;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// The on-disk framing of one batch in a segment: a fixed header (magic, payload length, first record offset,
/// record count, CRC32C) followed by the payload. The CRC covers the header's other fields and the payload, so
/// a torn or half-written tail fails the check and is cut off on open.
/// </summary>
internal sealed class BatchFrame : IRecordFraming
{
    public const int HeaderSize = 24;
    private const uint Magic = 0x314C5044; // "DPL1" little-endian

    public static BatchFrame Instance { get; } = new();

    public int HeaderBytes => HeaderSize;

    public int TrailerBytes => 0;

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> payload, long firstOffset, int recordCount)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], firstOffset);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], recordCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Checksum(header, payload));
    }

    /// <summary>Reads a header; false when it is not a header (wrong magic, impossible length).</summary>
    public bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out long firstKey, out int keyCount)
    {
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        firstKey = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        keyCount = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        return BinaryPrimitives.ReadUInt32LittleEndian(header) == Magic && payloadLength >= 0 && keyCount > 0 && firstKey >= 0;
    }

    public bool IsWhole(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> trailer) =>
        BinaryPrimitives.ReadUInt32LittleEndian(header[20..]) == Checksum(header, payload);

    private static uint Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        return ~Crc32C.Append(Crc32C.Append(~0u, header[..20]), payload);
    }
}
