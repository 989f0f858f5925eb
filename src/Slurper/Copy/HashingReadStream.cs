using System.Security.Cryptography;
using DataPlane.Storage;

namespace DataPlane.Slurper.Copy;

/// <summary>Passes a source stream through while computing the MD5 of every byte read and, when a chunk size is
/// given, the MD5 of each chunk of that size (to compare with a multipart source's ETag).</summary>
internal sealed class HashingReadStream(Stream inner, long length, long chunkSize = 0) : ForwardReadStream
{
    readonly IncrementalHash whole = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    readonly IncrementalHash? chunk = chunkSize > 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
    readonly List<byte[]> chunkMd5s = [];
    long inChunk;

    public long BytesRead { get; private set; }

    public byte[] Md5() => whole.GetCurrentHash();

    /// <summary>The MD5 of each chunk, the last one partial; only when a chunk size was given.</summary>
    public IReadOnlyList<byte[]> ChunkMd5s()
    {
        var all = new List<byte[]>(chunkMd5s);
        if (chunk is not null && inChunk > 0) all.Add(chunk.GetCurrentHash());
        return all;
    }

    void Hash(ReadOnlySpan<byte> data)
    {
        whole.AppendData(data);
        BytesRead += data.Length;
        if (chunk is null) return;
        while (data.Length > 0)
        {
            var take = (int)Math.Min(data.Length, chunkSize - inChunk);
            chunk.AppendData(data[..take]);
            inChunk += take;
            data = data[take..];
            if (inChunk == chunkSize)
            {
                chunkMd5s.Add(chunk.GetHashAndReset());
                inChunk = 0;
            }
        }
    }

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Hash(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Hash(buffer.Span[..n]);
        return n;
    }

    /// <summary>The length the source announced, so a writer that needs a content length can send one without buffering.</summary>
    public override long Length => length;
    protected override long ReadSoFar => BytesRead;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            whole.Dispose();
            chunk?.Dispose();
        }
        base.Dispose(disposing);
    }
}
