namespace DataPlane.Storage;

/// <summary>How a failure that may pass (a reset connection, S3's 500 and 503 SlowDown, a copy that failed) is tried
/// again: exponential backoff with jitter, the n-th retry waiting between half and all of
/// min(<see cref="MaxDelay"/>, <see cref="BaseDelay"/> * 2^(n-1)), so workers that failed together do not retry together.
/// The S3 client's requests and the Slurper's copies both use it.</summary>
public sealed record RetryPolicy
{
    public int MaxAttempts { get; init; } = 6;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <param name="failedAttempts">How many attempts have failed so far (1 after the first failure).</param>
    public TimeSpan DelayAfter(int failedAttempts)
    {
        var exp = Math.Min(30, Math.Max(0, failedAttempts - 1));
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, exp));
        return TimeSpan.FromMilliseconds(cap / 2 + Random.Shared.NextDouble() * cap / 2);
    }

    public bool IsExhausted(int failedAttempts) => failedAttempts >= MaxAttempts;
}
