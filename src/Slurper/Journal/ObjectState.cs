namespace DataPlane.Slurper.Journal;

/// <summary>Where one object stands in a job. Values are stored in the journal: never renumber.</summary>
public enum ObjectState
{
    Pending = 0,
    Leased = 1,
    Copied = 2,
    SkippedExisting = 3,
    SkippedTooLarge = 4,
    SkippedArchive = 5,
    Dead = 6,
    WouldCopy = 7,
}
