namespace DataPlane.Storage.Log;

/// <summary>One record read back: its keys, its header (the framing's) and its payload, valid only during the call.</summary>
public delegate bool LogRecordVisitor(long firstKey, int keyCount, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload);
