using System.Runtime.CompilerServices;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Memory;
using DataPlane.Iceberg.DataFiles;

namespace DataPlane.Iceberg.Sorting;

/// <summary>
/// Sorts Arrow batches by their <see cref="SortKeys"/> in bounded memory: batches are held until they take
/// <c>memoryBytes</c> of Arrow buffers, then sorted together and, when more follow, written to a local folder as a sorted
/// run (Arrow IPC stream); the runs are merged at the end, at most <see cref="MaxMergeWidth"/> at a time (wider, runs are
/// merged into longer runs first). Memory peaks near twice the budget (the held batches and their sorted copy) plus a
/// batch of <see cref="OutputRows"/> rows per merged run.
/// </summary>
internal sealed class ExternalSort(SortKeys keys, long memoryBytes, string spillRoot) : IDisposable
{
    public const int OutputRows = 8192;
    public const int MaxMergeWidth = 64;

    private readonly List<RecordBatch> _pending = [];
    private readonly List<string> _runs = [];
    private long _pendingBytes;
    private string? _folder;
    private int _nextRun;

    /// <summary>Rows added.</summary>
    public long Rows { get; private set; }

    /// <summary>Sorted runs written to disk (0 when everything fit in memory).</summary>
    public int RunsSpilled { get; private set; }

    /// <summary>Bytes of the runs written to disk.</summary>
    public long BytesSpilled { get; private set; }

    /// <summary>Takes <paramref name="batch"/> (this sort disposes it) and spills a run when the held batches reach the budget.</summary>
    public async Task AddAsync(RecordBatch batch, CancellationToken ct)
    {
        if (batch.Length == 0)
        {
            batch.Dispose();
            return;
        }
        _pending.Add(batch);
        _pendingBytes += DataFileWriter.ArrowBytes(batch);
        Rows += batch.Length;
        if (_pendingBytes >= memoryBytes)
            await SpillAsync(ct);
    }

    /// <summary>Every row added, in key order, in batches of at most <see cref="OutputRows"/> rows (the caller disposes them).</summary>
    public async IAsyncEnumerable<RecordBatch> SortedAsync([EnumeratorCancellation] CancellationToken ct)
    {
        if (_runs.Count == 0)
        {
            if (_pending.Count == 0) yield break;
            var (all, order) = SortPending();
            using (all)
                for (int start = 0; start < order.Length; start += OutputRows)
                    yield return ArrowTake.Take(all, order.AsSpan(start, Math.Min(OutputRows, order.Length - start)));
            yield break;
        }
        if (_pending.Count > 0) await SpillAsync(ct);
        while (_runs.Count > MaxMergeWidth)
        {
            var first = _runs.Take(MaxMergeWidth).ToList();
            _runs.RemoveRange(0, first.Count);
            _runs.Add(await WriteRunAsync(MergeAsync(first, ct), ct));
            foreach (var run in first) File.Delete(run);
        }
        await foreach (var batch in MergeAsync(_runs, ct))
            yield return batch;
    }

    /// <summary>The held batches as one batch, and its rows' order (ties in the order they came).</summary>
    private (RecordBatch All, int[] Order) SortPending()
    {
        var all = _pending.Count == 1 ? _pending[0] : Concatenate(_pending);
        if (_pending.Count > 1)
            foreach (var batch in _pending) batch.Dispose();
        _pending.Clear();
        _pendingBytes = 0;
        var k = keys.Compute(all);
        var order = new int[all.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        order.AsSpan().Sort((a, b) =>
        {
            int c = k.Compare(a, b);
            return c != 0 ? c : a.CompareTo(b);
        });
        return (all, order);
    }

    private static RecordBatch Concatenate(IReadOnlyList<RecordBatch> batches)
    {
        var columns = new IArrowArray[batches[0].ColumnCount];
        for (int c = 0; c < columns.Length; c++)
            columns[c] = ArrowArrayConcatenator.Concatenate(batches.Select(b => b.Column(c)).ToList(), MemoryAllocator.Default.Value);
        return new RecordBatch(batches[0].Schema, columns, batches.Sum(b => b.Length));
    }

    private async Task SpillAsync(CancellationToken ct)
    {
        var (all, order) = SortPending();
        using (all)
            _runs.Add(await WriteRunAsync(Chunks(all, order), ct));
    }

    private static async IAsyncEnumerable<RecordBatch> Chunks(RecordBatch all, int[] order)
    {
        await Task.CompletedTask;
        for (int start = 0; start < order.Length; start += OutputRows)
            yield return ArrowTake.Take(all, order.AsSpan(start, Math.Min(OutputRows, order.Length - start)));
    }

    /// <summary>Writes sorted batches (disposing them) as a run file and returns its path.</summary>
    private async Task<string> WriteRunAsync(IAsyncEnumerable<RecordBatch> batches, CancellationToken ct)
    {
        _folder ??= Directory.CreateDirectory(Path.Combine(spillRoot, "dataplane-sort-" + Guid.NewGuid().ToString("N"))).FullName;
        var path = Path.Combine(_folder, $"run-{_nextRun++}.arrows");
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        ArrowStreamWriter? writer = null;
        try
        {
            await foreach (var batch in batches.WithCancellation(ct))
                using (batch)
                {
                    writer ??= new ArrowStreamWriter(stream, batch.Schema, leaveOpen: true);
                    await writer.WriteRecordBatchAsync(batch, ct);
                }
            if (writer is not null) await writer.WriteEndAsync(ct);
        }
        finally
        {
            writer?.Dispose();
        }
        RunsSpilled++;
        BytesSpilled += stream.Length;
        return path;
    }

    /// <summary>One run being merged: its reader, its current batch with its keys, and the next row of it.</summary>
    private sealed class Source(ArrowStreamReader reader) : IDisposable
    {
        public RecordBatch? Batch;
        public Keys Keys;
        public int Position;
        /// <summary>The first row not yet emitted.</summary>
        public int Emitted;

        public async Task<bool> NextAsync(SortKeys keys, CancellationToken ct)
        {
            Batch?.Dispose();
            do
            {
                Batch = await reader.ReadNextRecordBatchAsync(ct);
            }
            while (Batch is { Length: 0 });
            if (Batch is null) return false;
            Keys = keys.Compute(Batch);
            Position = Emitted = 0;
            return true;
        }

        public void Dispose()
        {
            Batch?.Dispose();
            reader.Dispose();
        }
    }

    /// <summary>The rows of sorted runs in key order (ties: the earlier run first).</summary>
    private async IAsyncEnumerable<RecordBatch> MergeAsync(IReadOnlyList<string> runs, [EnumeratorCancellation] CancellationToken ct)
    {
        var sources = runs.Select(r => new Source(new ArrowStreamReader(File.OpenRead(r)))).ToArray();
        try
        {
            var queue = new PriorityQueue<int, int>(Comparer<int>.Create((a, b) =>
            {
                var (x, y) = (sources[a], sources[b]);
                int c = Keys.Compare(x.Keys, x.Position, y.Keys, y.Position);
                return c != 0 ? c : a.CompareTo(b);
            }));
            for (int r = 0; r < sources.Length; r++)
                if (await sources[r].NextAsync(keys, ct))
                    queue.Enqueue(r, r);
            var fromRun = new int[OutputRows];
            var fromRow = new int[OutputRows];
            int selected = 0;
            while (queue.Count > 0)
            {
                int r = queue.Dequeue();
                var source = sources[r];
                fromRun[selected] = r;
                fromRow[selected++] = source.Position++;
                if (source.Position == source.Batch!.Length)
                {
                    // The batch's rows must be gathered before it is replaced.
                    yield return Gather(sources, fromRun, fromRow, selected);
                    selected = 0;
                    if (await source.NextAsync(keys, ct))
                        queue.Enqueue(r, r);
                    continue;
                }
                queue.Enqueue(r, r);
                if (selected == OutputRows)
                {
                    yield return Gather(sources, fromRun, fromRow, selected);
                    selected = 0;
                }
            }
            if (selected > 0) yield return Gather(sources, fromRun, fromRow, selected);
        }
        finally
        {
            foreach (var source in sources) source.Dispose();
        }
    }

    /// <summary>The selected rows as one new batch: each source's rows since its last gather are consecutive, so they are
    /// sliced, the slices concatenated, and the rows taken from that in the merged order.</summary>
    private static RecordBatch Gather(Source[] sources, int[] fromRun, int[] fromRow, int count)
    {
        var slices = new List<RecordBatch>();
        var bases = new int[sources.Length];
        int total = 0;
        for (int r = 0; r < sources.Length; r++)
        {
            var s = sources[r];
            if (s.Batch is null || s.Position == s.Emitted) continue;
            bases[r] = total - s.Emitted;
            slices.Add(s.Batch.Slice(s.Emitted, s.Position - s.Emitted));
            total += s.Position - s.Emitted;
            s.Emitted = s.Position;
        }
        var rows = new int[count];
        for (int i = 0; i < count; i++) rows[i] = bases[fromRun[i]] + fromRow[i];
        if (slices.Count == 1) return ArrowTake.Take(slices[0], rows);
        using var combined = Concatenate(slices);
        return ArrowTake.Take(combined, rows);
    }

    public void Dispose()
    {
        foreach (var batch in _pending) batch.Dispose();
        _pending.Clear();
        if (_folder is not null)
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A run still open (an enumeration abandoned midway) or already gone: the temporary folder's own clean-up takes it.
            }
        }
    }
}
