using System.Buffers.Binary;
using System.Numerics;

namespace DataPlane.Iceberg.Partitioning;

/// <summary>32-bit Murmur3, x86 variant, seed 0: the hash of the bucket transform (spec Appendix B).</summary>
internal static class Murmur3
{
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    public static int HashLong(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        return HashBytes(b);
    }

    /// <summary>The hash of a decimal: of its unscaled value's minimal big-endian two's complement bytes.</summary>
    public static int HashDecimal(Int128 unscaled)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt128BigEndian(b, unscaled);
        return HashBytes(b[(16 - Types.DecimalValue.MinimalLength(unscaled))..]);
    }

    public static int HashBytes(ReadOnlySpan<byte> data)
    {
        uint h = 0;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            h ^= MixK(k);
            h = BitOperations.RotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        var tail = data[(blocks * 4)..];
        uint k1 = 0;
        switch (tail.Length)
        {
            case 3: k1 ^= (uint)tail[2] << 16; goto case 2;
            case 2: k1 ^= (uint)tail[1] << 8; goto case 1;
            case 1:
                k1 ^= tail[0];
                h ^= MixK(k1);
                break;
        }
        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return (int)h;
    }

    private static uint MixK(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }
}
