using DataPlane.Slurper.Journal;
using DataPlane.Storage;

namespace DataPlane.Slurper.Copy;

/// <summary>
/// Copies one object and proves it arrived intact, with one GET of the source (whose response also gives the
/// content type, user metadata and ETag to keep: no head) streamed into the destination while its MD5 is computed.
/// Below the multipart threshold that is one streamed PUT; above it, a multipart upload whose parts are read in
/// turn from the same GET and sent as they are read, no part ever buffered: while one part's upload waits for the
/// server's answer the next part is already streaming (up to <see cref="SlurpOptions.PartConcurrency"/> in flight).
/// A multipart source whose part layout the source tells is copied part by part instead, each part from its own ranged
/// GET straight into its upload, <see cref="SlurpOptions.PartConcurrency"/> parts at once (see <see cref="CopyByRangesAsync"/>).
/// Verification: a single-part source's ETag is the MD5 of its bytes and must equal the MD5 of what was read; a multipart
/// source's ETag must equal the multipart ETag of the same part layout (which the source tells, else a common part size
/// that gives its part count), else the size must match; the destination's ETag, and each part's, must agree with the bytes sent.
/// </summary>
internal sealed class ObjectCopier(IObjectStore source, IObjectStore destination, SlurpOptions options)
{
    /// <summary>Part sizes tools commonly use, tried in order to match a multipart source's part layout when the source does not tell it.</summary>
    static readonly long[] CommonPartSizes = [5, 8, 10, 15, 16, 25, 32, 50, 64, 100, 128, 256, 512];

    public async Task<CopyOutcome> CopyAsync(WorkItem item, CancellationToken ct)
    {
        if (options.SkipExisting)
        {
            var existing = await destination.HeadAsync(item.Key, ct);
            if (existing is not null && existing.Size == item.Size && (ETag.Same(existing.ETag, item.ETag) || ETag.Same(Md5Of(existing), item.ETag)))
                return new CopyOutcome(item, ObjectState.SkippedExisting, 0, "exists", null);
        }
        if (options.DryRun) return new CopyOutcome(item, ObjectState.WouldCopy, 0, null, null);

        // Only a multipart source needs a request more: its part layout, to rebuild and check its ETag.
        var layout = ETag.PartCount(item.ETag) > 0 ? await source.GetPartLayoutAsync(item.Key, ct) : null;
        if (layout is { PartCount: > 1, PartSize: > 0 } && layout.PartCount == ETag.PartCount(item.ETag) && item.Size >= options.MultipartThreshold
            && (item.Size + layout.PartSize - 1) / layout.PartSize == layout.PartCount)
            return new CopyOutcome(item, ObjectState.Copied, item.Size, await CopyByRangesAsync(item, layout, ct), null);
        var body = await source.GetAsync(item.Key, null, ct);
        var info = body.Object;
        var put = new PutOptions { ContentType = info.ContentType, Metadata = info.Metadata, PartSize = PartSizeFor(info, layout) };
        var multipart = info.Size >= options.MultipartThreshold && info.Size > put.PartSize;
        // Part MD5s are needed for a multipart copy, and to rebuild a multipart source's ETag.
        await using var hashing = new HashingReadStream(body, info.Size, multipart || ETag.PartCount(info.ETag) > 0 ? put.PartSize : 0);
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
            ? await CopyMultipartAsync(info, hashing, put, ct)
            : await CopySingleAsync(info, hashing, put with { ContentLength = info.Size }, ct);
        return new CopyOutcome(item, ObjectState.Copied, bytes, verification, null);
    }

    /// <summary>User metadata key holding the MD5 of an object copied as multipart from a single-part source.</summary>
    public const string Md5MetadataKey = "dataplane-md5";

    static string? Md5Of(ObjectInfo info) =>
        info.Metadata?.FirstOrDefault(kv => kv.Key.Equals(Md5MetadataKey, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The part size to copy with: the source's own when it was a multipart upload (as the source tells, else a
    /// common part size that gives its part count), so its ETag can be compared; else the configured one.</summary>
    long PartSizeFor(ObjectInfo info, PartLayout? layout)
    {
        var parts = ETag.PartCount(info.ETag);
        if (parts <= 0) return options.PartSize;
        if (layout is { PartSize: > 0 } && layout.PartCount == parts) return layout.PartSize;
        foreach (var mib in CommonPartSizes)
        {
            var size = mib * 1024 * 1024;
            if ((info.Size + size - 1) / size == parts) return size;
        }
        var even = (info.Size + parts - 1) / parts;
        return Math.Max(5L * 1024 * 1024, (even + 1024 * 1024 - 1) / (1024 * 1024) * 1024 * 1024);
    }

    async Task<(long Bytes, string Verification)> CopySingleAsync(ObjectInfo info, HashingReadStream hashing, PutOptions put, CancellationToken ct)
    {
        var written = await destination.PutAsync(info.Key, hashing, put, ct);
        var md5 = hashing.Md5();
        if (hashing.BytesRead != info.Size)
            throw new VerificationFailedException(info.Key, $"read {hashing.BytesRead} bytes, the source says {info.Size}");
        if (written.Size != info.Size)
            throw new VerificationFailedException(info.Key, $"the destination holds {written.Size} bytes, the source {info.Size}");
        var verification = VerifyAgainstSource(info, md5, ETag.PartCount(info.ETag) > 0 ? hashing.ChunkMd5s() : null);
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

    async Task<(long Bytes, string Verification)> CopyMultipartAsync(ObjectInfo info, HashingReadStream hashing, PutOptions put, CancellationToken ct)
    {
        var partSize = put.PartSize;
        var partCount = (int)((info.Size + partSize - 1) / partSize);
        var partETags = new string[partCount];
        using var inFlight = new SemaphoreSlim(Math.Max(1, options.PartConcurrency));
        await using var upload = await destination.StartMultipartUploadAsync(info.Key, put, ct);
        var uploads = new List<Task>(partCount);

        async Task UploadAsync(int index, PartWindow window, long length)
        {
            try
            {
                partETags[index] = await upload.UploadPartAsync(index + 1, window, length, ct);
            }
            finally
            {
                inFlight.Release();
            }
        }

        try
        {
            for (var i = 0; i < partCount; i++)
            {
                await inFlight.WaitAsync(ct);
                if (uploads.FirstOrDefault(u => u.IsFaulted) is { } failedPart)
                {
                    inFlight.Release();
                    await failedPart;
                }
                var length = Math.Min(partSize, info.Size - i * partSize);
                var window = new PartWindow(hashing, length);
                var uploading = UploadAsync(i, window, length);
                uploads.Add(uploading);
                // The parts share one source stream: the next may read only once this one has read all its bytes.
                await Task.WhenAny(window.Drained, uploading);
                if (window.Drained.IsFaulted) await window.Drained;
                if (!window.Drained.IsCompleted)
                {
                    await uploading;
                    throw new IOException($"The upload of part {i + 1} of '{info.Key}' ended before sending its {length} bytes.");
                }
            }
            await Task.WhenAll(uploads);
        }
        catch
        {
            try { await Task.WhenAll(uploads); } catch { /* the first error is the one to report */ }
            // Safe: the upload this copy started; an abort drops its parts, never an object.
            try { await upload.AbortAsync(CancellationToken.None); } catch { /* some servers cannot abort; the parts expire */ }
            throw;
        }
        var written = await upload.CompleteAsync(ct);
        var md5 = hashing.Md5();
        var partMd5s = hashing.ChunkMd5s();
        if (hashing.BytesRead != info.Size || partMd5s.Count != partCount)
            throw new VerificationFailedException(info.Key, $"read {hashing.BytesRead} bytes in {partMd5s.Count} parts, the source says {info.Size} bytes in {partCount}");
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

    /// <summary>
    /// Copies a multipart source in its own part layout, each part from a ranged GET streamed into that part's upload while
    /// its MD5 is computed, <see cref="SlurpOptions.PartConcurrency"/> parts in flight (no part buffer: memory stays a copy
    /// buffer per part). Verification needs no whole-object pass here: the parts' MD5s rebuild the source's multipart ETag,
    /// every ranged answer must carry the ETag the first one had (the object did not change between the requests), and each
    /// destination part's ETag must be the MD5 of the bytes sent. A single-part source is never copied this way: its only
    /// checksum is the MD5 of the whole object, which needs its bytes in order (one GET, <see cref="CopyMultipartAsync"/>).
    /// </summary>
    async Task<string> CopyByRangesAsync(WorkItem item, PartLayout layout, CancellationToken ct)
    {
        var partMd5s = new byte[layout.PartCount][];
        var partETags = new string[layout.PartCount];
        long Length(int index) => Math.Min(layout.PartSize, item.Size - index * layout.PartSize);

        // The first part's answer also describes the object (content type, metadata) for the upload.
        var first = await source.GetAsync(item.Key, new ByteRange(0, Length(0)), ct);
        ObjectInfo info;
        MultipartUpload upload;
        try
        {
            info = first.Object;
            if (!ETag.Same(info.ETag, item.ETag) || info.Size != item.Size)
                throw new VerificationFailedException(item.Key, $"the object changed since it was listed: ETag {info.ETag} and {info.Size} bytes now, {item.ETag} and {item.Size} then");
            upload = await destination.StartMultipartUploadAsync(item.Key,
                new PutOptions { ContentType = info.ContentType, Metadata = info.Metadata, PartSize = layout.PartSize }, ct);
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        await using (upload)
        {
            async Task CopyPartAsync(int index, ObjectBody? opened, CancellationToken ct)
            {
                var length = Length(index);
                await using var body = opened ?? await source.GetAsync(item.Key, new ByteRange(index * layout.PartSize, length), ct);
                if (!ETag.Same(body.Object.ETag, info.ETag))
                    throw new VerificationFailedException(item.Key, $"part {index + 1} was read from ETag {body.Object.ETag}, part 1 from {info.ETag}: the object changed during the copy");
                await using var hashing = new HashingReadStream(body, length);
                partETags[index] = await upload.UploadPartAsync(index + 1, hashing, length, ct);
                if (hashing.BytesRead != length)
                    throw new VerificationFailedException(item.Key, $"read {hashing.BytesRead} bytes of part {index + 1}, expected {length}");
                partMd5s[index] = hashing.Md5();
                if (ETag.IsMd5(partETags[index]) && !ETag.Same(partETags[index], ETag.Hex(partMd5s[index])))
                    throw new VerificationFailedException(item.Key, $"the destination's ETag of part {index + 1} is {partETags[index]}, the MD5 of its bytes {ETag.Hex(partMd5s[index])}");
            }

            var next = 0;
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
            async Task WorkerAsync(ObjectBody? opened)
            {
                try
                {
                    for (var index = opened is null ? Interlocked.Increment(ref next) : 0; index < layout.PartCount; index = Interlocked.Increment(ref next))
                    {
                        var handed = opened;
                        opened = null;
                        await CopyPartAsync(index, handed, failed.Token);
                    }
                }
                catch
                {
                    // One part failed: the others stop rather than send bytes of an upload that will be aborted.
                    failed.Cancel();
                    throw;
                }
                finally
                {
                    if (opened is not null) await opened.DisposeAsync();
                }
            }

            var workers = new List<Task> { WorkerAsync(first) };
            for (var w = 1; w < Math.Min(Math.Max(1, options.PartConcurrency), layout.PartCount); w++) workers.Add(WorkerAsync(null));
            try
            {
                await Task.WhenAll(workers);
            }
            catch (Exception e)
            {
                // Safe: the upload this copy started; an abort drops its parts, never an object.
                try { await upload.AbortAsync(CancellationToken.None); } catch { /* some servers cannot abort; the parts expire */ }
                // Report the part that failed, not the cancellations it caused in the others.
                var cause = workers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).FirstOrDefault(x => x is not OperationCanceledException);
                if (cause is not null && !ct.IsCancellationRequested) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(cause).Throw();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
            }
            var written = await upload.CompleteAsync(ct);
            var composite = ETag.Multipart(partMd5s);
            if (!ETag.Same(composite, info.ETag))
                throw new VerificationFailedException(item.Key, $"the parts read give ETag {composite}, the source ETag is {info.ETag}");
            if (written.Size != item.Size)
                throw new VerificationFailedException(item.Key, $"the destination holds {written.Size} bytes, the source {item.Size}");
            // Real S3 answers the multipart ETag of the parts; a server that answers a whole-object MD5 (s3rver) is checked
            // part by part only: the whole MD5 is what this path does not compute.
            if (ETag.PartCount(written.ETag) > 0 && !ETag.Same(written.ETag, composite))
                throw new VerificationFailedException(item.Key, $"the destination ETag {written.ETag} is not {composite}");
            return "part-etags";
        }
    }
}
