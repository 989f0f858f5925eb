using System.Buffers.Binary;
using System.Numerics;

namespace DataPlane.Storage.Durability;

/// <summary>
/// CRC-32C (Castagnoli), the ingest log's checksum. System.IO.Hashing 10 ships only the IEEE CRC-32 (the database
/// commit log's, System.IO.Hashing.Crc32); BitOperations.Crc32C uses the SSE4.2 / ARMv8
/// CRC instructions where present, eight bytes at a time.
/// </summary>
public static class Crc32C
{
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);
}
