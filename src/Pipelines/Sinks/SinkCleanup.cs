namespace DataPlane.Pipelines.Sinks;

/// <summary>
/// What a sink's clean-up did with the files its pipeline recorded as written since its last commit
/// (<see cref="ISinkTarget.RemoveUncommittedAsync"/>).
/// </summary>
/// <param name="Removed">Keys deleted: they existed and no commit of the target references them.</param>
/// <param name="Committed">Recorded files a commit did land (a crash came after the commit, before the journal was cleared): kept.</param>
/// <param name="NeverCreated">Recorded files that do not exist: their writer was stopped before completing them.</param>
/// <param name="NotChecked">Why the recorded files were left as they are without being checked (they were written for
/// another target than the sink's current one), or null.</param>
internal sealed record SinkCleanup(IReadOnlyList<string> Removed, int Committed, int NeverCreated, string? NotChecked = null);
