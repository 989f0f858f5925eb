using System.Threading.Channels;
using DataPlane.Storage;

namespace DataPlane.Slurper.Listing;

/// <summary>
/// Lists a store's whole key space with several list requests in flight. It first discovers prefixes with the
/// '/' delimiter down to <see cref="DiscoveryDepth"/> levels, listing each prefix as its own range; a range whose first
/// page comes back full is split further by start-after at character boundaries past that page, so a single flat
/// prefix with millions of keys is listed in parallel too. Every page goes to the consumer as soon as it arrives, with
/// what it holds that is no object to copy: the store's skipped entries, and common prefixes no key under which can be
/// named (a "a/../" from a key "a/../b" on S3), which are reported rather than listed (the store refuses them).
/// </summary>
internal sealed class KeySpaceLister(IObjectStore store, int concurrency, int discoveryDepth = 2, int pageSize = 1000)
{
    const string SplitAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public int DiscoveryDepth => discoveryDepth;

    /// <summary>List requests made so far.</summary>
    public long Requests => Interlocked.Read(ref requests);
    long requests;

    public async Task RunAsync(Func<ListedPage, CancellationToken, ValueTask> onPage, CancellationToken cancellationToken)
    {
        var ranges = Channel.CreateUnbounded<ListRange>();
        var outstanding = 1;
        ranges.Writer.TryWrite(new ListRange("", Discover: discoveryDepth > 0, Depth: 0));
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        void Spawn(ListRange range)
        {
            Interlocked.Increment(ref outstanding);
            ranges.Writer.TryWrite(range);
        }

        async Task Worker()
        {
            await foreach (var range in ranges.Reader.ReadAllAsync(failed.Token))
            {
                try
                {
                    if (range.Discover) await DiscoverAsync(range, Spawn, onPage, failed.Token);
                    else await ListFlatAsync(range, Spawn, onPage, failed.Token);
                }
                catch
                {
                    failed.Cancel();
                    ranges.Writer.TryComplete();
                    throw;
                }
                if (Interlocked.Decrement(ref outstanding) == 0) ranges.Writer.TryComplete();
            }
        }

        var workers = Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(Worker, CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(workers);
        }
        catch when (!cancellationToken.IsCancellationRequested)
        {
            // Surface the first real failure rather than the cancellations it caused in the other workers.
            var first = workers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
    }

    async Task DiscoverAsync(ListRange range, Action<ListRange> spawn,
        Func<ListedPage, CancellationToken, ValueTask> onPage, CancellationToken ct)
    {
        string? startAfter = null;
        do
        {
            Interlocked.Increment(ref requests);
            var page = await store.ListPageAsync(range.Prefix, startAfter, pageSize, "/", ct);
            List<SkippedEntry>? unlistable = null;
            foreach (var prefix in page.CommonPrefixes)
            {
                try
                {
                    ObjectKey.ValidatePrefix(prefix);
                }
                catch (InvalidObjectKeyException e)
                {
                    (unlistable ??= []).Add(new SkippedEntry(prefix, $"no key under this prefix can be read: {e.Message}"));
                    continue;
                }
                spawn(new ListRange(prefix, Discover: range.Depth + 1 < discoveryDepth, Depth: range.Depth + 1));
            }
            var skipped = unlistable is null ? page.Skipped : [.. page.Skipped, .. unlistable];
            if (page.Objects.Count > 0 || skipped.Count > 0) await onPage(new ListedPage(page.Objects, skipped), ct);
            startAfter = page.NextStartAfter;
        } while (startAfter is not null);
    }

    async Task ListFlatAsync(ListRange range, Action<ListRange> spawn,
        Func<ListedPage, CancellationToken, ValueTask> onPage, CancellationToken ct)
    {
        var startAfter = range.StartAfter;
        var endBefore = range.EndBefore;
        var first = true;
        while (true)
        {
            Interlocked.Increment(ref requests);
            var page = await store.ListPageAsync(range.Prefix, startAfter, pageSize, null, ct);
            var objects = page.Objects;
            var reachedEnd = !page.IsTruncated;
            var inRange = new List<ObjectInfo>(objects.Count);
            foreach (var o in objects)
            {
                if (endBefore is not null && string.CompareOrdinal(o.Key, endBefore) >= 0) { reachedEnd = true; break; }
                if (range.LowerBound is null || string.CompareOrdinal(o.Key, range.LowerBound) >= 0) inRange.Add(o);
            }
            var skippedInRange = new List<SkippedEntry>();
            foreach (var s in page.Skipped)
            {
                if (endBefore is not null && string.CompareOrdinal(s.Key, endBefore) >= 0) { reachedEnd = true; break; }
                if (range.LowerBound is null || string.CompareOrdinal(s.Key, range.LowerBound) >= 0) skippedInRange.Add(s);
            }
            if (first && !reachedEnd && objects.Count > 0)
            {
                // A full first page means a big range: hand the key space past it to other workers.
                var points = SplitPoints(range.Prefix, objects[0].Key, objects[^1].Key, endBefore);
                for (var i = 0; i < points.Count; i++)
                    spawn(new ListRange(range.Prefix, false, range.Depth, StartAfter: JustBefore(points[i]), LowerBound: points[i],
                        EndBefore: i + 1 < points.Count ? points[i + 1] : endBefore));
                if (points.Count > 0) endBefore = points[0];
            }
            first = false;
            if (inRange.Count > 0 || skippedInRange.Count > 0) await onPage(new ListedPage(inRange, skippedInRange), ct);
            if (reachedEnd) return;
            startAfter = page.NextStartAfter;
        }
    }

    /// <summary>A start-after that lists from <paramref name="bound"/> on: the bound with its last character lowered and
    /// DEL appended sorts after every ASCII key below the bound; the few non-ASCII keys between the two are listed by both
    /// neighbouring ranges and dropped by this one's lower bound.</summary>
    internal static string JustBefore(string bound) => bound[..^1] + (char)(bound[^1] - 1) + "\u007f";

    /// <summary>Boundaries for splitting the keys after <paramref name="last"/> (and before <paramref name="endBefore"/>): at the
    /// first character where the page's keys differ, and at the character before it, so numbered keys split by their digits.</summary>
    internal static List<string> SplitPoints(string prefix, string first, string last, string? endBefore)
    {
        var common = 0;
        while (common < first.Length && common < last.Length && first[common] == last[common]) common++;
        common = Math.Max(common, prefix.Length);
        var bases = new List<string>(2);
        if (common > prefix.Length) bases.Add(last[..(common - 1)]);
        if (common <= last.Length) bases.Add(last[..common]);
        var points = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var b in bases)
            foreach (var c in SplitAlphabet)
            {
                var point = b + c;
                if (string.CompareOrdinal(point, last) > 0 && (endBefore is null || string.CompareOrdinal(point, endBefore) < 0))
                    points.Add(point);
            }
        return points.ToList();
    }
}
