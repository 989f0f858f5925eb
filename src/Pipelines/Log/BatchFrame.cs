using System.Buffers.Binary;
using DataPlane.Storage.Durability;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// The on-disk framing of one batch in a segment: a fixed header (magic, payload length, first record offset,
/// record count, CRC32C) followed by the payload. The CRC covers the header's other fields and the payload, so
/// a torn or half-written tail fails the check and is cut off on open.
/// </summary>
internal static class BatchFrame
{
    public const int HeaderSize = 24;
    private const uint Magic = 0x314C5044; // "DPL1" little-endian

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> payload, long firstOffset, int recordCount)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], firstOffset);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], recordCount);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Checksum(header, payload));
    }

    /// <summary>Reads a header; false when it is not a header (wrong magic, impossible length).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out long firstOffset, out int recordCount)
    {
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        firstOffset = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        recordCount = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        return BinaryPrimitives.ReadUInt32LittleEndian(header) == Magic && payloadLength >= 0 && recordCount > 0 && firstOffset >= 0;
    }

    public static bool ChecksumMatches(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        BinaryPrimitives.ReadUInt32LittleEndian(header[20..]) == Checksum(header, payload);

    private static uint Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        return ~Crc32C.Append(Crc32C.Append(~0u, header[..20]), payload);
    }
}
