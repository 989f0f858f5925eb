using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace DataPlane.Storage.Local;

/// <summary>
/// A file being written under the store's temp folder, hashed (MD5, the S3 ETag of a single-part object) as the
/// bytes go by. <see cref="SealAsync"/> makes it durable and stamps it; only then may it be renamed into place.
/// </summary>
internal sealed class StagedFile : IAsyncDisposable
{
    private static long s_lastStamp;

    private readonly FileStream _file;
    private readonly IncrementalHash? _md5;

    public StagedFile(string tempDirectory, bool hash = true)
    {
        Directory.CreateDirectory(tempDirectory);
        Path = System.IO.Path.Combine(tempDirectory, $"{Guid.NewGuid():N}.tmp");
        _file = new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 1 << 16, // encoders write in small pieces; large writes bypass the buffer
        });
        _md5 = hash ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
    }

    public string Path { get; }
    public long Length { get; private set; }
    public string? ETag { get; private set; }
    public DateTime LastWriteUtc { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        _md5?.AppendData(bytes.Span);
        await _file.WriteAsync(bytes, cancellationToken);
        Length += bytes.Length;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _md5?.AppendData(bytes);
        _file.Write(bytes);
        Length += bytes.Length;
    }

    public async Task CopyFromAsync(Stream source, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer, cancellationToken)) > 0)
                await WriteAsync(buffer.AsMemory(0, n), cancellationToken);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Flushes to disk and stamps a last-write time unique within this process, which the sidecar records to
    /// recognise this version of the file; sets <see cref="ETag"/> when hashing.
    /// </summary>
    public async Task SealAsync(CancellationToken cancellationToken)
    {
        await _file.FlushAsync(cancellationToken);
        File.SetLastWriteTimeUtc(_file.SafeFileHandle, new DateTime(NextStamp(), DateTimeKind.Utc));
        _file.Flush(flushToDisk: true);
        LastWriteUtc = File.GetLastWriteTimeUtc(_file.SafeFileHandle);
        await _file.DisposeAsync();
        ETag = _md5 is null ? null : Convert.ToHexStringLower(_md5.GetHashAndReset());
    }

    private static long NextStamp()
    {
        // Microsecond resolution survives every common Linux file system; two writes must never share a stamp.
        var now = DateTime.UtcNow.Ticks / 10 * 10;
        while (true)
        {
            var last = Interlocked.Read(ref s_lastStamp);
            var next = Math.Max(now, last + 10);
            if (Interlocked.CompareExchange(ref s_lastStamp, next, last) == last)
                return next;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _md5?.Dispose();
        await _file.DisposeAsync();
        // After a successful rename nothing is left under the temp name; otherwise the write was abandoned or lost.
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
