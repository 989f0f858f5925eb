namespace DataPlane.Slurper.Progress;

/// <summary>Live counts of one run, updated by listing and copy workers without locks.</summary>
internal sealed class SlurpCounters
{
    long listedObjects, listedBytes, doneObjects, doneBytes, copiedObjects, skippedObjects, failedObjects, retries, duplicatePages;

    public long ListedObjects => Interlocked.Read(ref listedObjects);
    public long ListedBytes => Interlocked.Read(ref listedBytes);
    public long DoneObjects => Interlocked.Read(ref doneObjects);
    public long DoneBytes => Interlocked.Read(ref doneBytes);
    public long CopiedObjects => Interlocked.Read(ref copiedObjects);
    public long SkippedObjects => Interlocked.Read(ref skippedObjects);
    public long FailedObjects => Interlocked.Read(ref failedObjects);
    public long Retries => Interlocked.Read(ref retries);
    public long DuplicatePages => Interlocked.Read(ref duplicatePages);
    public bool ListingDone { get; set; }

    public void Listed(long objects, long bytes)
    {
        Interlocked.Add(ref listedObjects, objects);
        Interlocked.Add(ref listedBytes, bytes);
    }

    public void Copied(long bytes)
    {
        Interlocked.Increment(ref copiedObjects);
        Interlocked.Increment(ref doneObjects);
        Interlocked.Add(ref doneBytes, bytes);
    }

    /// <summary>An object that needs no copy still counts towards the total, bytes included, so the ETA stays honest.</summary>
    public void Skipped(long size)
    {
        Interlocked.Increment(ref skippedObjects);
        Interlocked.Increment(ref doneObjects);
        Interlocked.Add(ref doneBytes, size);
    }

    public void Failed(long size)
    {
        Interlocked.Increment(ref failedObjects);
        Interlocked.Increment(ref doneObjects);
        Interlocked.Add(ref doneBytes, size);
    }

    /// <summary>A resumed run starts with what earlier runs finished.</summary>
    public void Resumed(long objects, long bytes)
    {
        Interlocked.Add(ref doneObjects, objects);
        Interlocked.Add(ref doneBytes, bytes);
    }

    public void Retried() => Interlocked.Increment(ref retries);
    public void DuplicatePage() => Interlocked.Increment(ref duplicatePages);
}
