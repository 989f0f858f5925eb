namespace DataPlane.Slurper.Journal;

/// <summary>One object to copy, as the listing saw it; <see cref="Attempts"/> counts failed attempts so far.</summary>
internal sealed record WorkItem(string Key, long Size, string ETag, int Attempts = 0);
