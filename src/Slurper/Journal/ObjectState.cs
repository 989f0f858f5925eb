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

    /// <summary>A symbolic link in a source folder: never followed (it may lead outside the folder, or nowhere).</summary>
    SkippedLink = 8,

    /// <summary>A key no store here can name (a '..' or '.' segment, a control character), or a prefix of such keys.</summary>
    SkippedInvalidKey = 9,
}
