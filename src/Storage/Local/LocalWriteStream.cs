namespace DataPlane.Storage.Local;

/// <summary>Streams into a temp file; the object appears under its key only on <see cref="CompleteAsync"/>.</summary>
internal sealed class LocalWriteStream(LocalFolderStore store, string key, PutOptions? options, Dictionary<string, string>? metadata, StagedFile staged)
    : ObjectWriteStream
{
    private bool _done;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        staged.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        return staged.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush() { }

    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        await using (staged)
        {
            await staged.SealAsync(cancellationToken);
            return store.Commit(key, staged, staged.ETag!, options, metadata, overwrite: true);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_done)
        {
            _done = true;
            staged.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_done)
        {
            _done = true;
            await staged.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}
