namespace DataPlane.Slurper.Journal;

/// <summary>What happened to one attempt at one object. <see cref="Error"/> is set for a failed attempt.</summary>
internal readonly record struct CopyOutcome(WorkItem Item, ObjectState State, long Bytes, string? Verification, string? Error)
{
    public bool Failed => Error is not null;

    public static CopyOutcome Failure(WorkItem item, string error) => new(item, ObjectState.Pending, 0, null, error);
}
