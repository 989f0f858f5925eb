namespace DataPlane.Database.Log;

/// <summary>The entries asked for were dropped by truncation; the reader must bootstrap from a snapshot.</summary>
internal sealed class LogTruncatedException(long requestedAfter, long firstRetained)
    : Exception($"Log entries after position {requestedAfter} were truncated; the log now starts at {firstRetained}. Bootstrap from a snapshot.")
{
    public long FirstRetained { get; } = firstRetained;
}
