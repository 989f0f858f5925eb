using Xunit;

namespace DataPlane.Storage.Tests;

public sealed class RetryPolicyTests
{
    [Fact]
    public void Retry_delays_grow_exponentially_with_jitter_up_to_the_cap()
    {
        var p = new RetryPolicy { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };
        for (var n = 1; n <= 8; n++)
        {
            var cap = Math.Min(1000, 100 * Math.Pow(2, n - 1));
            var samples = Enumerable.Range(0, 50).Select(_ => p.DelayAfter(n).TotalMilliseconds).ToList();
            Assert.All(samples, d => Assert.InRange(d, cap / 2, cap));
            Assert.True(samples.Distinct().Count() > 1, "jitter spreads retries");
        }
    }
}
