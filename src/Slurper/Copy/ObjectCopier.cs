using System.Buffers;
using System.Security.Cryptography;
using DataPlane.Slurper.Journal;
using DataPlane.Storage;

namespace DataPlane.Slurper.Copy;

/// <summary>
/// Copies one object and proves it arrived intact. Below the multipart threshold the source stream is piped into
/// the destination while its MD5 is computed; above it, parts are fetched with ranged reads and uploaded in parallel,
/// each held in one pooled part-sized buffer (a global budget bounds the buffers of all objects together).
/// Verification: a single-part source's ETag is the MD5 of its bytes and must equal the MD5 of what was read; a multipart
/// source's ETag must equal the multipart ETag of the same part layout when it can be inferred, else the size must match;
/// the destination's ETag, where it is an MD5 or a multipart ETag, must agree with the bytes sent.
/// </summary>
internal sealed class ObjectCopier
{
    /// <summary>Part sizes tools commonly use, tried in order to match a multipart source's part layout.</summary>
    static readonly long[] CommonPartSizes = [5, 8, 10, 15, 16, 25, 32, 50, 64, 100, 128, 256, 512];

    readonly IObjectStore source;
    readonly IObjectStore destination;
    readonly SlurpOptions options;
    readonly SemaphoreSlim partBuffers;

    readonly Func<string, CancellationToken, Task<ObjectInfo?>> headSource;
    readonly Func<string, CancellationToken, Task<ObjectInfo?>> headDestination;

    /// <param name="headSource">How to head a source object; default the store's own head.</param>
    public ObjectCopier(IObjectStore source, IObjectStore destination, SlurpOptions options,
        Func<string, CancellationToken, Task<ObjectInfo?>>? headSource = null, Func<string, CancellationToken, Task<ObjectInfo?>>? headDestination = null)
    {
        this.source = source;
        this.destination = destination;
        this.headSource = headSource ?? source.HeadAsync;
        this.headDestination = headDestination ?? destination.HeadAsync;
        this.options = options;
        partBuffers = new SemaphoreSlim(Math.Max(options.PartConcurrency, Math.Min(64, options.Concurrency)));
    }

    public async Task<CopyOutcome> CopyAsync(WorkItem item, CancellationToken ct)
    {
        if (options.SkipExisting)
        {
            var existing = await headDestination(item.Key, ct);
            if (existing is not null && existing.Size == item.Size && (ETag.Same(existing.ETag, item.ETag) || ETag.Same(Md5Of(existing), item.ETag)))
                return new CopyOutcome(item, ObjectState.SkippedExisting, 0, "exists", null);
        }
        if (options.DryRun) return new CopyOutcome(item, ObjectState.WouldCopy, 0, null, null);

        // The listing has no content type or user metadata: a head has them, and the ETag as of now.
        var info = await headSource(item.Key, ct)
                   ?? throw new ObjectNotFoundException(item.Key, source.Location);
        var put = new PutOptions { ContentType = info.ContentType, Metadata = info.Metadata, PartSize = PartSizeFor(info) };
        var multipart = info.Size >= options.MultipartThreshold && info.Size > put.PartSize;
        if (multipart && ETag.IsMd5(info.ETag))
        {
            // The copy's ETag will be a multipart ETag; keep the source's MD5 beside it so --skip-existing can still compare.
            var metadata = new Dictionary<string, string>(info.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)
            {
                [Md5MetadataKey] = ETag.Normalize(info.ETag),
            };
            put = put with { Metadata = metadata };
        }
        var (bytes, verification) = multipart
            ? await CopyMultipartAsync(info, put, ct)
            : await CopySingleAsync(info, put, ct);
        return new CopyOutcome(item, ObjectState.Copied, bytes, verification, null);
    }

    /// <summary>User metadata key holding the MD5 of an object copied as multipart from a single-part source.</summary>
    public const string Md5MetadataKey = "dataplane-md5";

    static string? Md5Of(ObjectInfo info) =>
        info.Metadata?.FirstOrDefault(kv => kv.Key.Equals(Md5MetadataKey, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The part size to copy with: the source's own when its ETag says it was a multipart upload and a
    /// common part size gives its part count (then the ETags can be compared), else the configured one.</summary>
    long PartSizeFor(ObjectInfo info)
    {
        var parts = ETag.PartCount(info.ETag);
        if (parts <= 0) return options.PartSize;
        foreach (var mib in CommonPartSizes)
        {
            var size = mib * 1024 * 1024;
            if ((info.Size + size - 1) / size == parts) return size;
        }
        var even = (info.Size + parts - 1) / parts;
        return Math.Max(5L * 1024 * 1024, (even + 1024 * 1024 - 1) / (1024 * 1024) * 1024 * 1024);
    }

    async Task<(long Bytes, string Verification)> CopySingleAsync(ObjectInfo info, PutOptions put, CancellationToken ct)
    {
        var sourceParts = ETag.PartCount(info.ETag);
        await using var hashing = new HashingReadStream(await source.GetAsync(info.Key, null, ct), info.Size, sourceParts > 0 ? put.PartSize : 0);
        var written = await destination.PutAsync(info.Key, hashing, put, ct);
        var md5 = hashing.Md5();
        if (hashing.BytesRead != info.Size)
            throw new VerificationFailedException(info.Key, $"read {hashing.BytesRead} bytes, the source says {info.Size}");
        if (written.Size != info.Size)
            throw new VerificationFailedException(info.Key, $"the destination holds {written.Size} bytes, the source {info.Size}");
        var verification = VerifyAgainstSource(info, md5, sourceParts > 0 ? hashing.ChunkMd5s() : null);
        if (ETag.IsMd5(written.ETag) && !ETag.Same(written.ETag, ETag.Hex(md5)))
            throw new VerificationFailedException(info.Key, $"the destination ETag {written.ETag} is not the MD5 {ETag.Hex(md5)} of the bytes sent");
        return (hashing.BytesRead, verification);
    }

    static string VerifyAgainstSource(ObjectInfo info, byte[] md5, IReadOnlyList<byte[]>? partMd5s)
    {
        if (ETag.IsMd5(info.ETag))
            return ETag.Same(info.ETag, ETag.Hex(md5))
                ? "md5"
                : throw new VerificationFailedException(info.Key, $"MD5 of the bytes read is {ETag.Hex(md5)}, the source ETag is {info.ETag}");
        if (partMd5s is not null && ETag.PartCount(info.ETag) == partMd5s.Count)
            return ETag.Same(info.ETag, ETag.Multipart(partMd5s))
                ? "part-etags"
                : throw new VerificationFailedException(info.Key, $"the parts read give ETag {ETag.Multipart(partMd5s)}, the source ETag is {info.ETag}");
        // A part layout we cannot reproduce (or an ETag that is no MD5 at all): size is what the source lets us check.
        return "size";
    }

    async Task<(long Bytes, string Verification)> CopyMultipartAsync(ObjectInfo info, PutOptions put, CancellationToken ct)
    {
        var partSize = put.PartSize;
        var partCount = (int)((info.Size + partSize - 1) / partSize);
        var partMd5s = new byte[partCount][];
        var partETags = new string[partCount];
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var perObject = new SemaphoreSlim(options.PartConcurrency);
        await using var upload = await destination.StartMultipartUploadAsync(info.Key, put, ct);
        var parts = new List<Task>(partCount);
        // Each part adds its bytes to the whole-object MD5 only after the part before it did, so MD5 stays sequential
        // while reads and uploads run in parallel.
        Task previousHashed = Task.CompletedTask;
        try
        {
            for (var i = 0; i < partCount && !failed.IsCancellationRequested; i++)
            {
                await perObject.WaitAsync(failed.Token);
                try
                {
                    await partBuffers.WaitAsync(failed.Token);
                }
                catch
                {
                    perObject.Release();
                    throw;
                }
                var hashed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var part = CopyPartAsync(info, upload, i, partSize, previousHashed, hashed, whole, partMd5s, partETags, failed.Token);
                previousHashed = hashed.Task;
                parts.Add(part.ContinueWith(t =>
                {
                    perObject.Release();
                    partBuffers.Release();
                    if (t.IsFaulted) failed.Cancel();
                    return t;
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap());
            }
            await Task.WhenAll(parts);
        }
        catch
        {
            try { await Task.WhenAll(parts); } catch { /* the first error is the one to report */ }
            try { await upload.AbortAsync(CancellationToken.None); } catch { /* some servers cannot abort; the parts expire */ }
            var first = parts.Where(p => p.IsFaulted).Select(p => p.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
        var written = await upload.CompleteAsync(ct);
        var md5 = whole.GetCurrentHash();
        for (var i = 0; i < partCount; i++)
            if (ETag.IsMd5(partETags[i]) && !ETag.Same(partETags[i], ETag.Hex(partMd5s[i])))
                throw new VerificationFailedException(info.Key, $"the destination's ETag of part {i + 1} is {partETags[i]}, the MD5 of its bytes {ETag.Hex(partMd5s[i])}");
        var verification = VerifyAgainstSource(info, md5, partMd5s);
        if (written.Size != info.Size)
            throw new VerificationFailedException(info.Key, $"the destination holds {written.Size} bytes, the source {info.Size}");
        if (ETag.IsMd5(written.ETag) || ETag.PartCount(written.ETag) > 0)
        {
            var composite = ETag.Multipart(partMd5s);
            // Real S3 answers the multipart ETag of the parts; some servers (s3rver) the MD5 of the whole object.
            if (!ETag.Same(written.ETag, composite) && !(ETag.IsMd5(written.ETag) && ETag.Same(written.ETag, ETag.Hex(md5))))
                throw new VerificationFailedException(info.Key, $"the destination ETag {written.ETag} matches neither {composite} nor {ETag.Hex(md5)}");
        }
        return (info.Size, verification);
    }

    async Task CopyPartAsync(ObjectInfo info, MultipartUpload upload, int index, long partSize, Task previousHashed,
        TaskCompletionSource hashed, IncrementalHash whole, byte[][] partMd5s, string[] partETags, CancellationToken ct)
    {
        var offset = index * partSize;
        var length = (int)Math.Min(partSize, info.Size - offset);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            try
            {
                await using (var stream = await source.GetAsync(info.Key, new ByteRange(offset, length), ct))
                {
                    var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, length), length, throwOnEndOfStream: false, ct);
                    if (read != length)
                        throw new VerificationFailedException(info.Key, $"part {index + 1} at {offset} gave {read} bytes, expected {length}");
                }
                partMd5s[index] = MD5.HashData(buffer.AsSpan(0, length));
            }
            catch (Exception e)
            {
                hashed.TrySetException(e);
                throw;
            }
            var uploading = upload.UploadPartAsync(index + 1, new MemoryStream(buffer, 0, length, writable: false), length, ct);
            try
            {
                await previousHashed;
                whole.AppendData(buffer, 0, length);
                hashed.TrySetResult();
            }
            catch (Exception e)
            {
                hashed.TrySetException(e);
            }
            // The buffer goes back to the pool only once the upload has stopped reading it.
            partETags[index] = await uploading;
            await hashed.Task;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
