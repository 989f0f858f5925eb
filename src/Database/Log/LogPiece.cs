namespace DataPlane.Database.Log;

internal enum LogPieceKind : byte
{
    /// <summary>A session-extension changeset: row changes with their final values.</summary>
    Changeset = 1,

    /// <summary>A schema statement, replayed as written (DDL is deterministic once refused forms are out).</summary>
    Statement = 2,
}

/// <summary>One step of a transaction, applied in order on a replica.</summary>
internal readonly record struct LogPiece(LogPieceKind Kind, byte[] Bytes);
