using System.Buffers.Binary;
using System.Numerics;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// CRC32C (Castagnoli). System.IO.Hashing 10 only ships the IEEE CRC32; BitOperations.Crc32C uses the SSE4.2 / ARMv8
/// CRC instructions where present, eight bytes at a time.
/// </summary>
internal static class Crc32C
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
