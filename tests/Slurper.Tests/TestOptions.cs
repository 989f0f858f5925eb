using DataPlane.Storage;

namespace DataPlane.Slurper.Tests;

internal static class TestOptions
{
    /// <summary>Options for a run on in-memory stores with a fresh journal in a temp folder and fast retries.</summary>
    public static SlurpOptions For(string journalDir) => new()
    {
        Source = new StoreEndpoint("s3://src", new S3Options()),
        Destination = new StoreEndpoint("s3://dst", new S3Options()),
        JobId = "test",
        JournalPath = Path.Combine(journalDir, "test.db"),
        Output = TextWriter.Null,
        Interactive = false,
        Concurrency = 16,
        MultipartThreshold = 12 * 1024 * 1024,
        PartSize = 5 * 1024 * 1024,
        Retry = new RetryPolicy { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
    };

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "slurper-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
