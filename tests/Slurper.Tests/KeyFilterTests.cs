using Xunit;

namespace DataPlane.Slurper.Tests;

public class KeyFilterTests
{
    [Theory]
    [InlineData("**/*.csv", "a.csv", true)]
    [InlineData("**/*.csv", "x/y/a.csv", true)]
    [InlineData("*.csv", "x/a.csv", false)]
    [InlineData("logs/202?/*", "logs/2024/a", true)]
    [InlineData("logs/202?/*", "logs/2024/b/c", false)]
    [InlineData("logs/**", "logs/2024/b/c", true)]
    [InlineData("data/[ab]*", "data/beta", true)]
    [InlineData("data/[!ab]*", "data/beta", false)]
    public void Include_globs_match_keys_as_documented(string glob, string key, bool expected) =>
        Assert.Equal(expected, new KeyFilter([glob], []).Accepts(key));

    [Fact]
    public void Exclude_wins_over_include()
    {
        var filter = new KeyFilter(["**/*.parquet"], ["tmp/**"]);
        Assert.True(filter.Accepts("t/a.parquet"));
        Assert.False(filter.Accepts("tmp/a.parquet"));
        Assert.False(filter.Accepts("t/a.json"));
    }

    [Fact]
    public void An_unclosed_class_is_refused_with_the_glob_named()
    {
        var e = Assert.Throws<ArgumentException>(() => new KeyFilter(["a[bc"], []));
        Assert.Contains("a[bc", e.Message);
    }
}
