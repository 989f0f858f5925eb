using System.Buffers.Binary;
using System.IO.Hashing;
using DataPlane.Storage.Log;

namespace DataPlane.Database.Log;

/// <summary>The commit log's segments hold <see cref="LogRecordFormat"/> records, one position each.</summary>
internal sealed class LogRecordFraming : IRecordFraming
{
    // The IEEE CRC over two spans needs an instance; one per thread, as opens and replica reads run side by side.
    [ThreadStatic]
    private static Crc32? _crc;

    public static LogRecordFraming Instance { get; } = new();

    public int HeaderBytes => LogRecordFormat.HeaderBytes;

    public int TrailerBytes => LogRecordFormat.TrailerBytes;

    public bool TryReadHeader(ReadOnlySpan<byte> header, out int payloadLength, out long firstKey, out int keyCount)
    {
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(header);
        firstKey = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
        keyCount = 1;
        return payloadLength is >= 0 and <= LogRecordFormat.MaxPayloadBytes;
    }

    public bool IsWhole(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> trailer)
    {
        var crc = _crc ??= new Crc32();
        crc.Reset();
        crc.Append(header[4..]);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32() == BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }
}
