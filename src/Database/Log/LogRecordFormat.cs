using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace DataPlane.Database.Log;

/// <summary>
/// A record, on disk and on the wire: [int32 payload length][int64 position][int64 commit micros]
/// [payload][uint32 CRC of position..payload]. A torn tail fails the length or CRC check.
/// </summary>
internal static class LogRecordFormat
{
    public const int HeaderBytes = 20;
    public const int TrailerBytes = 4;
    public const int MaxPayloadBytes = 256 * 1024 * 1024;

    public static void Write(Stream stream, LogEntry entry)
    {
        int total = entry.RecordLength;
        var buffer = ArrayPool<byte>.Shared.Rent(total);
        try
        {
            Encode(entry, buffer.AsSpan(0, total));
            stream.Write(buffer, 0, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the record into <paramref name="record"/>, <see cref="LogEntry.RecordLength"/> bytes.</summary>
    public static void Encode(LogEntry entry, Span<byte> record)
    {
        BinaryPrimitives.WriteInt32LittleEndian(record, entry.Payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record[4..], entry.Position);
        BinaryPrimitives.WriteInt64LittleEndian(record[12..], entry.CommittedAtMicros);
        entry.Payload.CopyTo(record[HeaderBytes..]);
        uint crc = Crc32.HashToUInt32(record[4..(HeaderBytes + entry.Payload.Length)]);
        BinaryPrimitives.WriteUInt32LittleEndian(record[(HeaderBytes + entry.Payload.Length)..], crc);
    }

    /// <summary>The entry of a record read whole (its header and payload checked).</summary>
    public static LogEntry Decode(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(header[4..]), BinaryPrimitives.ReadInt64LittleEndian(header[12..]), payload.ToArray());

    /// <summary>The next whole record, or null at the end of the stream or at a torn/corrupt tail.</summary>
    public static LogEntry? Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (!ReadExactly(stream, header)) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || length > MaxPayloadBytes) return null;
        long position = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
        long micros = BinaryPrimitives.ReadInt64LittleEndian(header[12..]);
        var payload = new byte[length];
        if (!ReadExactly(stream, payload)) return null;
        Span<byte> trailer = stackalloc byte[TrailerBytes];
        if (!ReadExactly(stream, trailer)) return null;
        var check = new byte[16 + length];
        header[4..].CopyTo(check);
        payload.CopyTo(check, 16);
        if (Crc32.HashToUInt32(check) != BinaryPrimitives.ReadUInt32LittleEndian(trailer)) return null;
        return new LogEntry(position, micros, payload);
    }

    public static async Task<LogEntry?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderBytes];
        if (!await ReadExactlyAsync(stream, header, cancellationToken)) return null;
        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || length > MaxPayloadBytes) throw new InvalidDataException($"Log record length {length} is out of range.");
        var rest = new byte[length + TrailerBytes];
        if (!await ReadExactlyAsync(stream, rest, cancellationToken)) throw new InvalidDataException("Log stream ended inside a record.");
        var check = new byte[16 + length];
        header.AsSpan(4).CopyTo(check);
        rest.AsSpan(0, length).CopyTo(check.AsSpan(16));
        if (Crc32.HashToUInt32(check) != BinaryPrimitives.ReadUInt32LittleEndian(rest.AsSpan(length)))
            throw new InvalidDataException("Log record failed its CRC check.");
        return new LogEntry(
            BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(4)),
            BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(12)),
            rest.AsSpan(0, length).ToArray());
    }

    private static bool ReadExactly(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    private static async Task<bool> ReadExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[read..], cancellationToken);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new InvalidDataException("Log stream ended inside a record.");
            }
            read += n;
        }
        return true;
    }
}
