using System.Collections.Concurrent;
using DataPlane.Slurper.Listing;
using Xunit;

namespace DataPlane.Slurper.Tests;

public class KeySpaceListerTests
{
    static async Task<List<string>> ListAll(InMemoryObjectStore store, int concurrency = 8, int pageSize = 100)
    {
        var seen = new ConcurrentBag<string>();
        await new KeySpaceLister(store, concurrency, pageSize: pageSize).RunAsync((page, _) =>
        {
            foreach (var o in page.Objects) seen.Add(o.Key);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        return seen.ToList();
    }

    [Fact]
    public async Task Every_key_of_nested_and_flat_prefixes_is_listed_exactly_once()
    {
        var store = new InMemoryObjectStore();
        var expected = new List<string>();
        for (var a = 0; a < 5; a++)
            for (var b = 0; b < 4; b++)
                for (var c = 0; c < 30; c++)
                    expected.Add($"d{a}/e{b}/sub/obj-{c:000}");
        for (var i = 0; i < 2500; i++) expected.Add($"flat/file-{i:00000}.bin");
        expected.AddRange(["top.txt", "Zeta", "a-b", "flat/Ärger", "flat/~tilde"]);
        foreach (var k in expected) store.Add(k, [1]);

        var listed = await ListAll(store);

        Assert.Equal(expected.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_big_flat_prefix_is_split_into_ranges_listed_in_parallel()
    {
        var store = new InMemoryObjectStore();
        for (var i = 0; i < 5000; i++) store.Add($"part-{i:000000}", [1]);
        var concurrent = 0;
        var maxConcurrent = 0;
        var lister = new KeySpaceLister(store, 8, discoveryDepth: 0, pageSize: 100);
        var keys = new ConcurrentBag<string>();
        await lister.RunAsync(async (page, _) =>
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref maxConcurrent, now);
            await Task.Delay(5);
            foreach (var o in page.Objects) keys.Add(o.Key);
            Interlocked.Decrement(ref concurrent);
        }, CancellationToken.None);

        Assert.Equal(5000, keys.Distinct().Count());
        Assert.Equal(5000, keys.Count);
        Assert.True(maxConcurrent > 1, "pages of one flat prefix should be delivered by several ranges at once");
    }

    static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    [Theory]
    [InlineData("p/", "p/file-000", "p/file-099", null)]
    [InlineData("", "a", "azz", null)]
    [InlineData("x/", "x/k00", "x/k05", "x/k3")]
    public void Split_points_lie_after_the_page_and_before_the_range_end(string prefix, string first, string last, string? endBefore)
    {
        var points = KeySpaceLister.SplitPoints(prefix, first, last, endBefore);
        Assert.NotEmpty(points);
        Assert.All(points, p =>
        {
            Assert.StartsWith(prefix, p);
            Assert.True(string.CompareOrdinal(p, last) > 0);
            if (endBefore is not null) Assert.True(string.CompareOrdinal(p, endBefore) < 0);
            Assert.True(string.CompareOrdinal(KeySpaceLister.JustBefore(p), p) < 0);
            Assert.True(string.CompareOrdinal(KeySpaceLister.JustBefore(p), last) >= 0 || string.CompareOrdinal(p, last) > 0);
        });
    }
}
