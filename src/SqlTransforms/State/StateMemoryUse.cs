namespace DataPlane.SqlTransforms.State;

/// <summary>
/// What an execution's keyed state has held against its budget (<see cref="StateOptions.MemoryBytes"/>), by the state's
/// own estimate from the capacity of its arrays: now, at most, and at most with the garbage of arrays it let go of
/// until a collection freed them; the runs it spilled, and the full collections it made to free that garbage.
/// </summary>
public readonly record struct StateMemoryUse(long Held, long PeakHeld, long PeakAccounted, int RunsSpilled, long BytesSpilled, int Collections);
