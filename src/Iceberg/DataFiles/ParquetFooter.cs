using System.Buffers.Binary;
using ParquetSharp;

namespace DataPlane.Iceberg.DataFiles;

/// <summary>Reads the compressed size of every leaf column from a Parquet footer held in memory.</summary>
internal static class ParquetFooter
{
    /// <summary>
    /// Column chunk sizes summed over row groups, in leaf order; null when <paramref name="tail"/> does not hold the
    /// whole footer (then the caller reads it from storage).
    /// </summary>
    public static long[]? LeafColumnSizes(byte[] tail, long fileLength)
    {
        if (tail.Length < 8) return null;
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail.AsSpan(tail.Length - 8));
        // Arrow reads up to 64 KiB from the end at first, so that much must be there too.
        if (footerLength + 8L > tail.Length || (tail.Length < fileLength && tail.Length < 64 * 1024))
            return null;
        using var stream = new TailStream(tail, fileLength);
        return LeafColumnSizes(stream);
    }

    public static long[] LeafColumnSizes(Stream seekableFile)
    {
        using var reader = new ParquetFileReader(seekableFile, leaveOpen: true);
        using var metadata = reader.FileMetaData;
        var sizes = new long[metadata.NumColumns];
        for (int g = 0; g < metadata.NumRowGroups; g++)
        {
            using var rowGroup = reader.RowGroup(g);
            for (int c = 0; c < sizes.Length; c++)
            {
                using var chunk = rowGroup.MetaData.GetColumnChunkMetaData(c);
                sizes[c] += chunk.TotalCompressedSize;
            }
        }
        reader.Close();
        return sizes;
    }

    /// <summary>A read-only view of a file of which only the last bytes are present.</summary>
    private sealed class TailStream(byte[] tail, long fileLength) : Stream
    {
        private readonly long _tailStart = fileLength - tail.Length;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => fileLength;
        public override long Position { get => _position; set => _position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position < _tailStart)
                throw new InvalidOperationException($"Footer read at {_position} before the kept tail ({_tailStart}).");
            int n = (int)Math.Min(count, fileLength - _position);
            if (n <= 0) return 0;
            Array.Copy(tail, _position - _tailStart, buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => fileLength + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
