using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace DataPlane.Pipelines.Log;

/// <summary>
/// One append-only segment file named by the offset of its first record. Keeps an in-memory index of its batches
/// (offset, position) so a reader can seek to any committed offset without scanning. It holds no file open while
/// nobody writes: the log's writer opens the active segment on its first write and closes it once the stream is idle
/// (<see cref="CloseForWrite"/>), and each read opens the file for itself, so a server's open files follow its active
/// streams, not how many it has.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    public const string Extension = ".segment";

    private readonly List<Entry> _entries = [];
    private SafeFileHandle? _writeHandle;

    private LogSegment(string path, long firstOffset)
    {
        Path = path;
        FirstOffset = firstOffset;
    }

    public string Path { get; }
    public long FirstOffset { get; }

    /// <summary>The handle the log's single writer appends with, opened on first use. Only the writer calls this.</summary>
    public SafeFileHandle WriteHandle => _writeHandle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);

    public bool IsOpenForWrite => _writeHandle is not null;

    /// <summary>Closes the write handle (the writer is idle, or has moved on to the next segment).</summary>
    public void CloseForWrite()
    {
        _writeHandle?.Dispose();
        _writeHandle = null;
    }
    /// <summary>Bytes of whole, checked batches.</summary>
    public long Length { get; private set; }
    public long EndOffset { get; private set; }
    public int BatchCount => _entries.Count;

    public static string FileName(long firstOffset) => firstOffset.ToString("D20", CultureInfo.InvariantCulture) + Extension;

    public static bool TryParseFileName(string fileName, out long firstOffset)
    {
        firstOffset = 0;
        return fileName.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, fileName.Length - Extension.Length), NumberStyles.None, CultureInfo.InvariantCulture, out firstOffset);
    }

    public static LogSegment Create(string directory, long firstOffset)
    {
        var path = System.IO.Path.Combine(directory, FileName(firstOffset));
        File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read).Dispose();
        return new LogSegment(path, firstOffset) { EndOffset = firstOffset };
    }

    /// <summary>
    /// Opens an existing segment and indexes its batches. A tail that is not a whole batch with a matching checksum
    /// (a write torn by a crash) is cut off: everything acknowledged was fsynced, so it lies before the tear.
    /// </summary>
    public static LogSegment Open(string path, long firstOffset, out long truncatedBytes)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var segment = new LogSegment(path, firstOffset) { EndOffset = firstOffset };
        long fileLength = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[BatchFrame.HeaderSize];
        long position = 0;
        byte[] payload = [];
        while (position + BatchFrame.HeaderSize <= fileLength)
        {
            if (RandomAccess.Read(handle, header, position) != BatchFrame.HeaderSize)
                break;
            if (!BatchFrame.TryReadHeader(header, out int length, out long offset, out int count)
                || offset != segment.EndOffset || position + BatchFrame.HeaderSize + length > fileLength)
                break;
            if (payload.Length < length)
                payload = new byte[Math.Max(length, payload.Length * 2)];
            if (RandomAccess.Read(handle, payload.AsSpan(0, length), position + BatchFrame.HeaderSize) != length
                || !BatchFrame.ChecksumMatches(header, payload.AsSpan(0, length)))
                break;
            segment.Add(position, offset, count, length);
            position += BatchFrame.HeaderSize + length;
        }
        truncatedBytes = fileLength - position;
        if (truncatedBytes > 0)
        {
            RandomAccess.SetLength(handle, position);
            RandomAccess.FlushToDisk(handle);
        }
        return segment;
    }

    /// <summary>Records a batch written and flushed at <paramref name="position"/>.</summary>
    public void Add(long position, long firstOffset, int recordCount, int payloadLength)
    {
        lock (_entries)
            _entries.Add(new Entry(firstOffset, position, recordCount, payloadLength));
        Length = position + BatchFrame.HeaderSize + payloadLength;
        EndOffset = firstOffset + recordCount;
    }

    /// <summary>The index of the batch holding <paramref name="offset"/>, or -1.</summary>
    public int FindBatch(long offset)
    {
        lock (_entries)
        {
            int lo = 0, hi = _entries.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                var e = _entries[mid];
                if (offset < e.FirstOffset) hi = mid - 1;
                else if (offset >= e.FirstOffset + e.RecordCount) lo = mid + 1;
                else return mid;
            }
            return -1;
        }
    }

    /// <summary>Reads batch <paramref name="index"/> into a pooled buffer the caller releases.</summary>
    public LogBatch ReadBatch(int index)
    {
        Entry e;
        lock (_entries)
            e = _entries[index];
        var buffer = LogBuffer.Rent(e.PayloadLength, out var fill);
        int read;
        try
        {
            // Reads of the files are the slow path (the log's in-memory tail serves readers that keep up), so each opens its own.
            using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            read = RandomAccess.Read(handle, fill, e.Position + BatchFrame.HeaderSize);
        }
        catch
        {
            buffer.Release();
            throw;
        }
        if (read != e.PayloadLength)
        {
            buffer.Release();
            throw new IOException($"Segment {Path} is shorter than its index: batch at {e.Position} expected {e.PayloadLength} bytes, read {read}.");
        }
        return new LogBatch(e.FirstOffset, e.RecordCount, buffer);
    }

    public void Dispose() => CloseForWrite();

    private readonly record struct Entry(long FirstOffset, long Position, int RecordCount, int PayloadLength);
}
