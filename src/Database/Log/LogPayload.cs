using System.Buffers.Binary;

namespace DataPlane.Database.Log;

/// <summary>Encodes a transaction's pieces as [kind byte][int32 length][bytes]...</summary>
internal static class LogPayload
{
    public static byte[] Encode(IReadOnlyList<LogPiece> pieces)
    {
        int size = 0;
        foreach (var piece in pieces) size += 5 + piece.Bytes.Length;
        var payload = new byte[size];
        int offset = 0;
        foreach (var piece in pieces)
        {
            payload[offset] = (byte)piece.Kind;
            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(offset + 1), piece.Bytes.Length);
            piece.Bytes.CopyTo(payload, offset + 5);
            offset += 5 + piece.Bytes.Length;
        }
        return payload;
    }

    public static List<LogPiece> Decode(byte[] payload)
    {
        var pieces = new List<LogPiece>(2);
        int offset = 0;
        while (offset < payload.Length)
        {
            if (payload.Length - offset < 5) throw new InvalidDataException("Truncated log piece header.");
            var kind = (LogPieceKind)payload[offset];
            int length = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(offset + 1));
            if (length < 0 || length > payload.Length - offset - 5) throw new InvalidDataException("Log piece length out of range.");
            pieces.Add(new LogPiece(kind, payload.AsSpan(offset + 5, length).ToArray()));
            offset += 5 + length;
        }
        return pieces;
    }
}
