namespace DataPlane.SqlTransforms.State;

/// <summary>
/// The keyed state of one execution against its memory budget. Each stateful operator reports what its groups in
/// memory take (<see cref="Held"/>: an estimate from the capacity of their arrays, which is what they occupy), and
/// asks before its tables grow (<see cref="Fits"/>); the arrays a table outgrows, and those of groups spilled or
/// emitted, are <see cref="Garbage"/> until a full collection, counted against the budget too, so what the state
/// makes the process hold (live and garbage) stays within the budget. Spilled runs are files of the execution's own
/// folder, created with the first and removed with the last.
/// </summary>
internal sealed class StateMemory(StateOptions options) : IDisposable
{
    /// <summary>Garbage beside the state the managed heap may hold before <see cref="Batch"/> collects it.</summary>
    public const long HeapSlack = 32L << 20;

    private string? _folder;
    /// <summary>The managed heap beside the state at the last collection (-1: not measured yet).</summary>
    private long _otherLive = -1;
    private int _nextRun;
    private int _liveRuns;

    public StateOptions Options { get; } = options;

    /// <summary>Whether state is counted at all (an execution without a budget spends nothing on it).</summary>
    public bool Bounded => Options.MemoryBytes != long.MaxValue;

    /// <summary>Bytes the operators hold in memory now (their estimate).</summary>
    public long Held { get; private set; }

    /// <summary>The most <see cref="Held"/> has been.</summary>
    public long PeakHeld { get; private set; }

    public bool Over => Held > Options.MemoryBytes;

    /// <summary>Bytes of arrays the operators let go of (outgrown, or of groups spilled or emitted) since the last collection.</summary>
    public long Garbage { get; private set; }

    /// <summary>The most <see cref="Held"/> and <see cref="Garbage"/> have been together: what the state made the process hold.</summary>
    public long PeakAccounted { get; private set; }

    /// <summary>Full collections made to free <see cref="Garbage"/>.</summary>
    public int Collections { get; private set; }

    /// <summary>Runs written so far, and their bytes.</summary>
    public int RunsSpilled { get; private set; }

    public long BytesSpilled { get; private set; }

    public void Change(long delta)
    {
        Held += delta;
        if (Held > PeakHeld) PeakHeld = Held;
        if (Held + Garbage > PeakAccounted) PeakAccounted = Held + Garbage;
    }

    /// <summary>Arrays of <paramref name="bytes"/> are garbage now (their groups spilled or emitted, or outgrown).</summary>
    public void Dropped(long bytes)
    {
        Garbage += bytes;
        if (Held + Garbage > PeakAccounted) PeakAccounted = Held + Garbage;
    }

    /// <summary>
    /// Whether a table may grow by <paramref name="added"/> bytes, replacing arrays of <paramref name="replaced"/> (both
    /// held at once while it copies, the old ones garbage after): within the budget with the garbage there is, or after
    /// a full collection frees it. When not, the caller spills.
    /// </summary>
    public bool Fits(long added, long replaced)
    {
        if (Held + Garbage + added + replaced <= Options.MemoryBytes) return true;
        if (Garbage == 0 || Held + added + replaced > Options.MemoryBytes) return false;
        Collect();
        return true;
    }

    /// <summary>
    /// After each batch an operator of the state takes: a full collection when the managed heap holds more than
    /// <see cref="HeapSlack"/> beyond the state and what else was live at the last one, and still does after a
    /// collection of the young generations (small objects' garbage, which the runtime collects often anyway). The
    /// batches the engine goes through (input, output) are garbage of the large object heap, which the runtime
    /// collects after an allocation budget proportional to what survives it, the state: without this the process grows
    /// by a multiple of the state before a collection. With it, the process holds at most the budget, what it held
    /// beside the state, and this slack, at the cost of a collection per slack's worth of large batches (fast: the state
    /// is arrays of numbers and bytes, with nothing to trace).
    /// </summary>
    public void Batch()
    {
        if (!Bounded) return;
        if (_otherLive < 0) _otherLive = GC.GetTotalMemory(forceFullCollection: false) - Held;
        if (GC.GetTotalMemory(forceFullCollection: false) - Held - _otherLive <= HeapSlack) return;
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        if (GC.GetTotalMemory(forceFullCollection: false) - Held - _otherLive > HeapSlack) Collect();
    }

    /// <summary>
    /// Frees the <see cref="Garbage"/> if with it the state is over budget. The arrays are in the large object heap, which
    /// only a full collection frees: without one the process grows by them again before the runtime gets to it, and
    /// the budget bounds nothing. Spills and growth are rare (one per budget's worth of state), and so are these.
    /// </summary>
    public void CollectIfOver()
    {
        if (Garbage > 0 && Held + Garbage > Options.MemoryBytes) Collect();
    }

    private void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        Garbage = 0;
        Collections++;
        _otherLive = GC.GetTotalMemory(forceFullCollection: false) - Held;
    }

    /// <summary>The path of a new run file.</summary>
    public string NewRun()
    {
        _folder ??= Directory.CreateDirectory(Path.Combine(Options.SpillDirectory, "dataplane-state-" + Guid.NewGuid().ToString("N"))).FullName;
        _liveRuns++;
        return Path.Combine(_folder, $"run-{_nextRun++}.arrows");
    }

    /// <summary>Deletes a run from <see cref="NewRun"/> (merged, emitted or replaced), and the folder with the last.</summary>
    public void Delete(string run)
    {
        File.Delete(run);
        if (--_liveRuns > 0 || _folder is null) return;
        // Safe: this execution's own folder (a new GUID's), and every run in it is deleted.
        Directory.Delete(_folder, recursive: false);
        _folder = null;
    }

    public void Written(long bytes)
    {
        RunsSpilled++;
        BytesSpilled += bytes;
    }

    /// <summary>Deletes every run left (the execution is dropped: a pipeline's run ended, a restore replaced it).</summary>
    public void Dispose()
    {
        if (_folder is null) return;
        // Safe: this execution's own folder (a new GUID's), and nothing reads its runs once the execution is dropped.
        Directory.Delete(_folder, recursive: true);
        _folder = null;
        _liveRuns = 0;
    }
}
