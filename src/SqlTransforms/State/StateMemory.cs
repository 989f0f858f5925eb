namespace DataPlane.SqlTransforms.State;

/// <summary>
/// The keyed state of one execution against its memory budget: each stateful operator reports what its groups in
/// memory take (an estimate from the capacity of their arrays), and spills them when the execution is over budget.
/// Spilled runs are files of the execution's own folder, created with the first and removed with the last.
/// </summary>
internal sealed class StateMemory(StateOptions options) : IDisposable
{
    private string? _folder;
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

    /// <summary>Runs written so far, and their bytes.</summary>
    public int RunsSpilled { get; private set; }

    public long BytesSpilled { get; private set; }

    public void Change(long delta)
    {
        Held += delta;
        if (Held > PeakHeld) PeakHeld = Held;
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

    /// <summary>
    /// An operator has spilled what it held: its tables, a budget's worth, are garbage now, in the large object heap,
    /// which only a full collection frees. Collected at once (spills are one per budget's worth of state, so rare), or
    /// the process grows by that much again before the runtime gets to it, and the budget bounds nothing.
    /// </summary>
    public void Spilled() => GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);

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
