using System.Security.Cryptography;
using DataPlane.Storage.Durability;

namespace DataPlane.Storage.Local;

/// <summary>
/// The embedded default: objects are plain files under a root folder, so other tools (DuckDB, a file manager)
/// read them directly. Writes go to a temp file under <c>.dataplane/tmp/</c> (same file system, so the rename is
/// atomic), are flushed, then renamed into place; readers see the old object or the new one, never a part.
/// ETag, content type and user metadata live in sidecars under <c>.dataplane/meta/</c>, hidden from listings.
/// </summary>
internal sealed class LocalFolderStore : IObjectStore
{
    /// <summary>The root's one reserved entry: temp files, multipart parts and sidecars.</summary>
    public const string ReservedName = ".dataplane";

    private readonly string _root;
    private readonly string _tempDirectory;
    private readonly string _metaRoot;

    public LocalFolderStore(string path)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        Directory.CreateDirectory(_root);
        _tempDirectory = Path.Combine(_root, ReservedName, "tmp");
        _metaRoot = Path.Combine(_root, ReservedName, "meta");
        Location = new Uri(_root + Path.DirectorySeparatorChar);
    }

    public Uri Location { get; }

    public bool SupportsPutIfAbsent => true;

    public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        PutAsync(key, content, options, overwrite: true, cancellationToken);

    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        PutAsync(key, content, options, overwrite: false, cancellationToken);

    private async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options, bool overwrite, CancellationToken cancellationToken)
    {
        CheckKey(key);
        var metadata = UserMetadata.Normalize(options?.Metadata);
        StorageClassName.Validate(options?.StorageClass);
        if (!overwrite && File.Exists(DataPath(key)))
            throw new ObjectAlreadyExistsException(key, Location); // cheap early exit; the link below is what decides
        if (options?.ContentLength is { } length)
            content = length >= 0
                ? new ExactLengthStream(content, length, key)
                : throw new ArgumentOutOfRangeException(nameof(options), $"PutOptions.ContentLength {length} for '{key}' is negative.");
        await using var staged = new StagedFile(_tempDirectory);
        await staged.CopyFromAsync(content, cancellationToken);
        await staged.SealAsync(cancellationToken);
        return Commit(key, staged, staged.ETag!, options, metadata, overwrite);
    }

    /// <summary>
    /// Creates the file under its final name (O_EXCL: an existing one is refused), writes it, then flushes the file and
    /// its folder (so the name is durable too) at the same time: both must be done before this returns, and until then
    /// nobody knows the name, so their order does not matter. A crash before both are done may leave a partial file
    /// under the name, which nothing references. No sidecar: one would cost a second file per write, and everything it
    /// would hold (size, time, MD5) is rebuilt from the file when someone asks (<see cref="DescribeAsync"/>).
    /// </summary>
    public async Task PutNewAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        var target = DataPath(key);
        var folder = Path.GetDirectoryName(target)!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                CreateFolder(folder, key);
                using var file = File.OpenHandle(target, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                try
                {
                    RandomAccess.Write(file, content.Span, 0);
                    // Each flush waits on the device; overlapped, the two cost about one wait.
                    var folderFlushed = Task.Run(() => DirectoryFlush.Flush(folder), CancellationToken.None);
                    RandomAccess.FlushToDisk(file);
                    await folderFlushed;
                }
                catch
                {
                    file.Dispose();
                    File.Delete(target); // ours (CreateNew), and unpublished: nobody can be reading it
                    throw;
                }
                break;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // A delete of the folder's last object pruned it between our create and open; make it again.
            }
            catch (IOException e) when (File.Exists(target) || Directory.Exists(target))
            {
                throw Directory.Exists(target) ? FolderConflict(key, e) : new ObjectAlreadyExistsException(key, Location);
            }
        }
    }

    /// <summary>
    /// Renames a sealed temp file into place, then writes its sidecar. Without overwrite the move is link() then
    /// unlink() (<see cref="NoReplaceMove"/>), so of many writers exactly one wins.
    /// </summary>
    internal ObjectInfo Commit(string key, StagedFile staged, string etag, PutOptions? options, Dictionary<string, string>? metadata, bool overwrite,
        PartLayout? parts = null)
    {
        var target = DataPath(key);
        var folder = Path.GetDirectoryName(target)!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                CreateFolder(folder, key);
                if (overwrite)
                    File.Move(staged.Path, target, overwrite: true);
                else if (!NoReplaceMove.TryMove(staged.Path, target))
                    throw Directory.Exists(target) ? FolderConflict(key, null) : new ObjectAlreadyExistsException(key, Location);
                break;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // A delete of the folder's last object pruned it between our create and move; make it again.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && Directory.Exists(target))
            {
                throw FolderConflict(key, e);
            }
        }
        DirectoryFlush.Flush(folder);
        var sidecar = new Sidecar(staged.Length, staged.LastWriteUtc.Ticks, etag, options?.ContentType, metadata, options?.StorageClass,
            parts?.PartCount ?? 0, parts?.PartSize ?? 0);
        WriteSidecar(key, sidecar);
        return sidecar.ToObjectInfo(key);
    }

    public async Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var path = DataPath(key);
        for (var attempt = 0; ; attempt++)
        {
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16,
                    FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException
                || (e is UnauthorizedAccessException or IOException && Directory.Exists(path)))
            {
                throw new ObjectNotFoundException(key, Location);
            }
            try
            {
                // The description must be of the file this stream reads: a writer may have renamed a new version in
                // between the open and the head; then open again.
                var info = await HeadAsync(key, cancellationToken);
                var opened = new DateTimeOffset(File.GetLastWriteTimeUtc(file.SafeFileHandle).Ticks, TimeSpan.Zero);
                if (info is null || info.Size != file.Length || info.LastModified != opened)
                {
                    if (attempt < 3)
                    {
                        await file.DisposeAsync();
                        continue;
                    }
                    info = new ObjectInfo(key, file.Length, info?.ETag ?? "", opened, StorageClass: ObjectInfo.StandardStorageClass);
                }
                if (range is not { } r)
                    return new ObjectBody(file, info, file.Length);
                var length = RangeCheck.Length(r, file.Length, key);
                file.Seek(r.Offset, SeekOrigin.Begin);
                return new ObjectBody(new ReadWindowStream(file, length), info, length);
            }
            catch
            {
                await file.DisposeAsync();
                throw;
            }
        }
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var file = new FileInfo(DataPath(key));
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!file.Exists)
                return null;
            var sidecar = Sidecar.TryRead(MetaPath(key));
            if (sidecar is not null && sidecar.Describes(file))
                return sidecar.ToObjectInfo(key);
            // A writer may be between renaming the data and writing its sidecar: give it a moment. Not when the file is
            // older than any writer takes for that; then it has no sidecar (PutNewAsync, a file copied in by hand).
            if (DateTime.UtcNow - file.LastWriteTimeUtc > TimeSpan.FromSeconds(1))
                break;
            await Task.Delay(1 + attempt, cancellationToken);
            file.Refresh();
        }
        return file.Exists ? await DescribeAsync(key, file, cancellationToken) : null;
    }

    public async Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var file = new FileInfo(DataPath(key));
        if (!file.Exists)
            return null;
        var sidecar = Sidecar.TryRead(MetaPath(key));
        if (sidecar is null || !sidecar.Describes(file))
            return (await HeadAsync(key, cancellationToken)) is null ? null : Sidecar.TryRead(MetaPath(key))?.PartLayout;
        return sidecar.PartLayout;
    }

    /// <summary>For a file without a matching sidecar (copied in by hand, or its writer died between the two
    /// renames): hashes it, and records the sidecar when the file is old enough that no writer can still be at work.</summary>
    private async Task<ObjectInfo> DescribeAsync(string key, FileInfo file, CancellationToken cancellationToken)
    {
        string etag;
        await using (var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            etag = Convert.ToHexStringLower(await MD5.HashDataAsync(stream, cancellationToken));
        }
        var sidecar = new Sidecar(file.Length, file.LastWriteTimeUtc.Ticks, etag, null, null, null);
        if (DateTime.UtcNow - file.LastWriteTimeUtc > TimeSpan.FromMinutes(1))
            WriteSidecar(key, sidecar);
        return sidecar.ToObjectInfo(key);
    }

    public async Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default)
    {
        prefix = ObjectKey.ValidatePrefix(prefix);
        maxKeys = ListPaging.CheckMaxKeys(maxKeys);
        if (delimiter == "") delimiter = null;
        var walk = new FolderWalk(_root, ReservedName) { Skip = ListPaging.RolledUpStartAfter(prefix, startAfter, delimiter) };
        var objects = new List<ObjectInfo>();
        var commonPrefixes = new List<string>();
        var skipped = new List<SkippedEntry>();
        string? last = null;
        foreach (var (key, file, reason) in walk.Files(prefix, startAfter))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Skipped entries take room in the page too, so a folder of links still pages.
            if (objects.Count + commonPrefixes.Count + skipped.Count == maxKeys)
                return new ListPage(objects, commonPrefixes, last) { Skipped = skipped };
            // A link to a folder has its folder key ("name/"): it is reported, never rolled up as a prefix to list.
            var at = delimiter is null ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            if (at >= 0 && !(file is null && at + delimiter!.Length == key.Length))
            {
                last = key[..(at + delimiter!.Length)];
                commonPrefixes.Add(last);
                walk.Skip = last;
                continue;
            }
            if (file is null)
            {
                skipped.Add(new SkippedEntry(key, reason!));
                last = key;
                continue;
            }
            var sidecar = Sidecar.TryRead(MetaPath(key));
            objects.Add(sidecar is not null && sidecar.Describes(file)
                ? sidecar.ToObjectInfo(key)
                : await DescribeAsync(key, file, cancellationToken));
            last = key;
        }
        return new ListPage(objects, commonPrefixes, null) { Skipped = skipped };
    }

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) =>
        ListPaging.All(this, prefix, startAfter, cancellationToken);

    /// <summary>
    /// Deletes the object the caller names: whether that is safe is the caller's to prove (each one says why). Only that
    /// file, its sidecar and folders left empty go; a key is a path under the root without '.' or '..' segments, never
    /// <see cref="ReservedName"/>, and a folder (holding other keys) is not deleted.
    /// </summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var path = DataPath(key);
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is DirectoryNotFoundException || (e is UnauthorizedAccessException or IOException && Directory.Exists(path)))
        {
            return Task.CompletedTask; // no object of that name (a folder holding other keys is not one)
        }
        var meta = MetaPath(key);
        try { File.Delete(meta); } catch (DirectoryNotFoundException) { }
        PruneEmptyFolders(Path.GetDirectoryName(path)!, _root);
        PruneEmptyFolders(Path.GetDirectoryName(meta)!, _metaRoot);
        return Task.CompletedTask;
    }

    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var metadata = UserMetadata.Normalize(options?.Metadata);
        StorageClassName.Validate(options?.StorageClass);
        var directory = Path.Combine(_tempDirectory, $"upload-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return Task.FromResult<MultipartUpload>(new LocalMultipartUpload(this, key, options, metadata, directory));
    }

    public Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var metadata = UserMetadata.Normalize(options?.Metadata);
        StorageClassName.Validate(options?.StorageClass);
        return Task.FromResult<ObjectWriteStream>(new LocalWriteStream(this, key, options, metadata, new StagedFile(_tempDirectory)));
    }

    public void Dispose() { }

    private void CheckKey(string key)
    {
        ObjectKey.Validate(key);
        var first = key.AsSpan(0, key.IndexOf('/') is var slash and >= 0 ? slash : key.Length);
        if (first.SequenceEqual(ReservedName))
            throw new InvalidObjectKeyException(key, $"'{ReservedName}/' at the root is reserved by the local folder store for its temp files and metadata");
    }

    private IOException FolderConflict(string key, Exception? inner) =>
        new($"Cannot store '{key}' in {Location}: a folder of that name holds keys under '{key}/', and a local folder cannot hold both.", inner);

    private string DataPath(string key) => Path.Combine(_root, key);

    /// <summary>
    /// The sidecar of "a/b/c" is meta/a.d/b.d/c.json: folders end in ".d" and sidecars in ".json", so the sidecar of
    /// key "x" can never be in the way of the folder holding the sidecars of "x.json/...".
    /// </summary>
    private string MetaPath(string key)
    {
        var path = new System.Text.StringBuilder(_metaRoot.Length + key.Length + 16).Append(_metaRoot);
        foreach (var segment in key.AsSpan().Split('/'))
        {
            if (segment.End.Value == key.Length)
                path.Append(Path.DirectorySeparatorChar).Append(key.AsSpan(segment)).Append(".json");
            else
                path.Append(Path.DirectorySeparatorChar).Append(key.AsSpan(segment)).Append(".d");
        }
        return path.ToString();
    }

    private void CreateFolder(string folder, string key)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot store '{key}' in {Location}: part of its path is an object (a file), and a local folder cannot hold both 'a' and 'a/...'.", e);
        }
    }

    private void WriteSidecar(string key, Sidecar sidecar)
    {
        var path = MetaPath(key);
        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(_tempDirectory, $"{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(_tempDirectory);
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0))
        {
            file.Write(sidecar.ToJson());
            // A sidecar lost in a crash is rebuilt from its file (DescribeAsync) when it holds nothing but what the
            // file itself gives back; only one that records what the writer said (content type, user metadata,
            // storage class, part layout) must be durable before the write is acknowledged.
            if (!sidecar.Rebuildable) file.Flush(flushToDisk: true);
        }
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Directory.CreateDirectory(folder);
                File.Move(temp, path, overwrite: true);
                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
        }
    }

    private static void PruneEmptyFolders(string folder, string stopAt)
    {
        // Best effort, like S3 where folders do not exist: a folder left behind only costs a listing a lookup.
        while (folder.Length > stopAt.Length && folder.StartsWith(stopAt, StringComparison.Ordinal))
        {
            // Safe: not recursive, so only a folder with nothing in it goes; a writer that loses the race retries (Commit,
            // PutNewAsync, WriteSidecar).
            try { Directory.Delete(folder); }
            catch (IOException) { return; }
            catch (UnauthorizedAccessException) { return; }
            folder = Path.GetDirectoryName(folder)!;
        }
    }
}
