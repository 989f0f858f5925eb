using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace DataPlane.Storage.Log;

/// <summary>
/// One segment file of a <see cref="SegmentedLog"/>, named by its first key: its whole records' length and keys, and
/// (when the log indexes records) where each record lies. It holds a file open only while the log's writer appends to it.
/// </summary>
internal sealed class LogSegment(string path, long firstKey, bool indexed)
{
    private readonly List<Entry>? _entries = indexed ? [] : null;
    private SafeFileHandle? _writeHandle;

    public string Path { get; } = path;

    public long FirstKey { get; } = firstKey;

    /// <summary>The key after the last whole record (the first key while there is none).</summary>
    public long EndKey { get; private set; } = firstKey;

    /// <summary>Bytes of whole, checked records from the start of the file.</summary>
    public long Length { get; private set; }

    public int RecordCount { get; private set; }

    /// <summary>Written since the last sync.</summary>
    public bool Unsynced { get; set; }

    /// <summary>The handle the log's writer appends with, opened on first use. Only the writer calls this.</summary>
    public SafeFileHandle WriteHandle => _writeHandle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);

    public static string FileName(long firstKey, string extension) => firstKey.ToString("D20", CultureInfo.InvariantCulture) + extension;

    public static bool TryParseFileName(string fileName, string extension, out long firstKey)
    {
        firstKey = 0;
        return fileName.EndsWith(extension, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(0, fileName.Length - extension.Length), NumberStyles.None, CultureInfo.InvariantCulture, out firstKey);
    }

    public void CloseForWrite()
    {
        _writeHandle?.Dispose();
        _writeHandle = null;
    }

    /// <summary>Records a whole record at <paramref name="position"/>, <paramref name="frameLength"/> bytes in all.</summary>
    public void Add(long position, long firstKey, int keyCount, long payloadPosition, int payloadLength, long frameLength)
    {
        _entries?.Add(new Entry(firstKey, payloadPosition, keyCount, payloadLength));
        Length = position + frameLength;
        EndKey = firstKey + keyCount;
        RecordCount++;
    }

    /// <summary>The record holding <paramref name="key"/>; false when none does (or the segment keeps no index).</summary>
    public bool TryFind(long key, out LogRecord record)
    {
        record = default;
        if (_entries is null)
            return false;
        int lo = 0, hi = _entries.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var e = _entries[mid];
            if (key < e.FirstKey) hi = mid - 1;
            else if (key >= e.FirstKey + e.KeyCount) lo = mid + 1;
            else
            {
                record = new LogRecord(e.FirstKey, e.KeyCount, Path, e.PayloadPosition, e.PayloadLength);
                return true;
            }
        }
        return false;
    }

    private readonly record struct Entry(long FirstKey, long PayloadPosition, int KeyCount, int PayloadLength);
}
