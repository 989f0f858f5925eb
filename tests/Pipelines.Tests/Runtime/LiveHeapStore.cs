using DataPlane.Storage;

namespace DataPlane.Pipelines.Tests.Runtime;

/// <summary>
/// A real store whose write streams note, every <paramref name="every"/> bytes written, the live managed heap (after a
/// full collection), and so does each put of a whole object: the most it reached while objects were being written, so a
/// test can tell what a writer holds.
/// </summary>
internal sealed class LiveHeapStore(IObjectStore inner, long every) : IObjectStore
{
    private readonly long _every = every;

    public long MostLive { get; private set; }

    public long Written { get; private set; }

    public Uri Location => inner.Location;
    public bool SupportsPutIfAbsent => inner.SupportsPutIfAbsent;
    // An object put whole is in memory as it is handed over: the heap is noted then.
    public Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        Note();
        return inner.PutAsync(key, content, options, cancellationToken);
    }

    public Task<ObjectInfo> PutIfAbsentAsync(string key, Stream content, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        Note();
        return inner.PutIfAbsentAsync(key, content, options, cancellationToken);
    }
    public Task<ObjectBody> GetAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, range, cancellationToken);
    public Task<PartLayout?> GetPartLayoutAsync(string key, CancellationToken cancellationToken = default) => inner.GetPartLayoutAsync(key, cancellationToken);
    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);
    public Task<ListPage> ListPageAsync(string prefix, string? startAfter = null, int maxKeys = 1000, string? delimiter = null, CancellationToken cancellationToken = default) => inner.ListPageAsync(prefix, startAfter, maxKeys, delimiter, cancellationToken);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, string? startAfter = null, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, startAfter, cancellationToken);
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    public Task<MultipartUpload> StartMultipartUploadAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) => inner.StartMultipartUploadAsync(key, options, cancellationToken);

    public async Task<ObjectWriteStream> OpenWriteAsync(string key, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        new Probed(this, await inner.OpenWriteAsync(key, options, cancellationToken));

    public void Dispose() => inner.Dispose();

    private void Wrote(int bytes)
    {
        long before = Written;
        Written += bytes;
        if (Written / _every != before / _every)
            Note();
    }

    private void Note() => MostLive = Math.Max(MostLive, GC.GetTotalMemory(forceFullCollection: true));

    private sealed class Probed(LiveHeapStore store, ObjectWriteStream inner) : ObjectWriteStream
    {
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            store.Wrote(buffer.Length);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            store.Wrote(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default) => inner.CompleteAsync(cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
