using System.Collections.Concurrent;

namespace DataPlane.Storage.Local;

/// <summary>
/// Parts are files in the upload's own temp folder; completing concatenates them into one temp file, then
/// renames it into place like any put. The ETag follows S3's multipart form: MD5 of the parts' MD5s, "-N".
/// </summary>
internal sealed class LocalMultipartUpload(
    LocalFolderStore store, string key, PutOptions? options, Dictionary<string, string>? metadata, string directory)
    : MultipartUpload
{
    private readonly ConcurrentDictionary<int, (string ETag, long Length)> _parts = new();

    public override string Key => key;

    protected override async Task<string> UploadPartCoreAsync(int partNumber, Stream content, long length, CancellationToken cancellationToken)
    {
        await using var staged = new StagedFile(directory);
        await staged.CopyFromAsync(new ReadWindowStream(content, length), cancellationToken);
        if (staged.Length != length)
            throw new ArgumentException($"Part {partNumber} of '{key}' ended after {staged.Length} bytes; {length} were announced.", nameof(content));
        await staged.SealAsync(cancellationToken);
        File.Move(staged.Path, PartPath(partNumber), overwrite: true);
        _parts[partNumber] = (staged.ETag!, length);
        return staged.ETag!;
    }

    protected override async Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            var numbers = _parts.Keys.Order().ToArray();
            if (numbers.Length == 0)
                throw NoParts();
            await using var staged = new StagedFile(directory, hash: false);
            foreach (var n in numbers)
            {
                await using var part = new FileStream(PartPath(n), FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await staged.CopyFromAsync(part, cancellationToken);
            }
            await staged.SealAsync(cancellationToken);
            var etag = ETag.Multipart([.. numbers.Select(n => Convert.FromHexString(_parts[n].ETag))]);
            // All parts but the last have one size when a caller follows S3's rule; otherwise no layout rebuilds the ETag.
            var first = _parts[numbers[0]].Length;
            var uniform = numbers[^1] == numbers.Length && _parts[numbers[^1]].Length <= first
                && numbers.SkipLast(1).All(n => _parts[n].Length == first);
            return store.Commit(key, staged, etag, options, metadata, overwrite: true, uniform ? new PartLayout(numbers.Length, first) : null);
        }
        finally
        {
            DeleteDirectory();
        }
    }

    protected override Task AbortCoreAsync()
    {
        DeleteDirectory();
        return Task.CompletedTask;
    }

    private string PartPath(int partNumber) => Path.Combine(directory, $"part-{partNumber:D5}");

    private void DeleteDirectory()
    {
        // Safe: the upload's own folder (upload-<new GUID> under the store's temp folder), holding only its parts and the
        // staged whole, which Commit has already moved into place when the upload completed.
        try { Directory.Delete(directory, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
